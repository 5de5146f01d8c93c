import { type Logger } from '@herald/runtime';
import { type RealtimeMetrics } from '../metrics/realtime-metrics';
import { userRoom, type ServerToClientEvents } from './protocol';
import { type RealtimeServer, type RealtimeSocket } from './socket-types';

type EventName = keyof ServerToClientEvents;
type EventPayload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

export interface PusherOptions {
  metrics: RealtimeMetrics;
  /** packets queued for one socket before it counts as too slow to keep */
  maxBufferedPackets: number;
  log: Logger;
}

/**
 * Emits to the sockets of one user on this instance, socket by socket so
 * each one's backlog can be checked first. A client that does not read
 * (a stalled tab, a dead network that pings have not caught yet) would
 * otherwise collect every event in server memory: once its queue passes
 * the bound it is dropped instead, and it recovers what it missed through
 * catch-up when it reconnects.
 */
export class Pusher {
  constructor(
    private readonly io: RealtimeServer,
    private readonly options: PusherOptions,
  ) {}

  /** Returns the number of sockets reached. `occurredAt` feeds the push-latency histogram. */
  toUser<E extends EventName>(
    userId: string,
    event: E,
    payload: EventPayload<E>,
    occurredAt?: string,
  ): number {
    const namespace = this.io.of('/');
    const socketIds = namespace.adapter.rooms.get(userRoom(userId));
    if (!socketIds || socketIds.size === 0) return 0;
    let reached = 0;
    for (const socketId of [...socketIds]) {
      const socket = namespace.sockets.get(socketId);
      if (!socket) continue;
      if (this.isTooSlow(socket)) {
        this.dropSlowSocket(socket);
        continue;
      }
      (socket.emit as (event: E, payload: EventPayload<E>) => boolean)(event, payload);
      reached += 1;
    }
    if (reached > 0) {
      this.options.metrics.eventsPushed.inc({ event }, reached);
      if (occurredAt) {
        const latencySeconds = Math.max(0, Date.now() - Date.parse(occurredAt)) / 1000;
        this.options.metrics.pushLatency.observe({ event }, latencySeconds);
      }
    }
    return reached;
  }

  private isTooSlow(socket: RealtimeSocket): boolean {
    return bufferedPackets(socket) >= this.options.maxBufferedPackets;
  }

  private dropSlowSocket(socket: RealtimeSocket): void {
    this.options.log.warn(
      { userId: socket.data.user.id, socketId: socket.id, buffered: bufferedPackets(socket) },
      'client is not reading; disconnecting it so it reconnects and catches up',
    );
    this.options.metrics.slowClientsDisconnected.inc();
    // Closing the transport (not a server disconnect) discards the backlog, and the client reconnects by itself.
    socket.conn.close(true);
  }
}

/** Packets engine.io holds for the socket because its transport has not drained; not part of its typed API. */
function bufferedPackets(socket: RealtimeSocket): number {
  const writeBuffer = (socket.conn as unknown as { writeBuffer?: unknown[] }).writeBuffer;
  return Array.isArray(writeBuffer) ? writeBuffer.length : 0;
}
