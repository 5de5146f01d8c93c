/**
 * Counts each user's sockets on this instance. The limit is per instance on
 * purpose: a global count would need shared state on every handshake, and
 * with N instances a user holds at most N × limit sockets, which still
 * bounds a runaway tab loop. A new socket over the limit is refused rather
 * than evicting an old one, so a client stuck in a reconnect loop cannot
 * knock the user's working tabs offline.
 */
export class ConnectionsPerUser {
  private readonly socketsByUser = new Map<string, Set<string>>();

  constructor(private readonly maxPerUser: number) {}

  /** Reserves a slot, synchronously, so concurrent handshakes of one user cannot both take the last one. */
  tryReserve(userId: string, socketId: string): boolean {
    const sockets = this.socketsByUser.get(userId) ?? new Set<string>();
    if (sockets.size >= this.maxPerUser) return false;
    sockets.add(socketId);
    this.socketsByUser.set(userId, sockets);
    return true;
  }

  /** Idempotent: called from both the socket's and the transport's close, whichever comes first. */
  release(userId: string, socketId: string): void {
    const sockets = this.socketsByUser.get(userId);
    if (!sockets) return;
    sockets.delete(socketId);
    if (sockets.size === 0) this.socketsByUser.delete(userId);
  }

  count(userId: string): number {
    return this.socketsByUser.get(userId)?.size ?? 0;
  }
}
