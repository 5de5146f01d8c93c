import { ServerEvents, type UserSnapshot } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { type AccessRefusal, type AccountStates } from './account-states';
import { userRoom } from './protocol';
import { type RealtimeServer, type RealtimeSocket } from './socket-types';

/**
 * Applies auth's `user.updated` to this instance: the snapshot is recorded
 * (so later handshakes and `auth:refresh` of that account are judged by it),
 * and the user's sockets here whose token it outdates — the account is
 * disabled, or the role in the token is no longer the account's — are told
 * why (`auth:expired` with the reason's code) and disconnected at once.
 * Every instance gets every event, so every instance drops its own sockets.
 */
export class AccountChanges {
  constructor(
    private readonly io: RealtimeServer,
    readonly states: AccountStates,
    private readonly log: Logger,
  ) {}

  apply(snapshot: UserSnapshot, occurredAt: string): void {
    if (!this.states.record(snapshot, occurredAt)) return;
    const namespace = this.io.of('/');
    for (const socketId of [...(namespace.adapter.rooms.get(userRoom(snapshot.userId)) ?? [])]) {
      const socket = namespace.sockets.get(socketId);
      const refusal = socket && this.states.refusal(socket.data.user);
      if (socket && refusal) this.disconnect(socket, refusal);
    }
  }

  /** Tells the client why, then a server disconnect: it does not reconnect by itself with the same token. */
  disconnect(socket: RealtimeSocket, refusal: AccessRefusal): void {
    this.log.info(
      { userId: socket.data.user.id, socketId: socket.id, code: refusal.code },
      'account changed; disconnecting the socket',
    );
    socket.emit(ServerEvents.authExpired, { code: refusal.code });
    socket.disconnect(true);
  }
}
