// A socket.io client connected through the gateway, recording every event it
// receives, so a step can wait for an event that may already have arrived.
import { io, type Socket } from 'socket.io-client';
import { SOCKET_IO_PATH } from '@herald/contracts';
import { waitFor } from '@herald/test-support';

export interface ReceivedEvent {
  name: string;
  payload: unknown;
  receivedAt: Date;
}

export interface RecordingSocket {
  socket: Socket;
  events: ReceivedEvent[];
  /** The first `name` event whose payload passes `matches`, waiting for it if it has not arrived. */
  waitForEvent<T>(
    name: string,
    matches: (payload: T) => boolean,
    options: { description: string; timeoutMs?: number },
  ): Promise<T>;
  close(): void;
}

/**
 * Connects over WebSocket through the gateway with the access token in the
 * handshake's `auth`, as services/realtime/README.md describes. Resolves once
 * the server accepted the handshake (the socket is in its user's room by
 * then); rejects with the server's `data.code` when it refused it. No
 * automatic reconnect: a dropped socket should fail the step that needed it.
 */
export function connectSocket(
  gatewayUrl: string,
  token: string,
  timeoutMs = 20_000,
): Promise<RecordingSocket> {
  const socket = io(gatewayUrl, {
    path: SOCKET_IO_PATH,
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    timeout: timeoutMs,
  });
  const events: ReceivedEvent[] = [];
  socket.onAny((name: string, payload: unknown) => events.push({ name, payload, receivedAt: new Date() }));
  const recording: RecordingSocket = {
    socket,
    events,
    async waitForEvent<T>(
      name: string,
      matches: (payload: T) => boolean,
      options: { description: string; timeoutMs?: number },
    ) {
      const found = await waitFor(
        () => events.find((event) => event.name === name && matches(event.payload as T)),
        { timeoutMs: options.timeoutMs ?? 20_000, description: options.description },
      ).catch((error: Error) => {
        throw new Error(`${error.message}; events this socket received: ${summarize(events)}`);
      });
      return found.payload as T;
    },
    close: () => {
      socket.removeAllListeners();
      socket.disconnect();
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(recording));
    socket.once('connect_error', (error: Error & { data?: { code?: string } }) => {
      recording.close();
      reject(
        new Error(`the socket handshake through the gateway failed: ${error.message} (${error.data?.code})`),
      );
    });
  });
}

function summarize(events: ReceivedEvent[]): string {
  if (events.length === 0) return 'none';
  return events.map((event) => `${event.name} ${JSON.stringify(event.payload).slice(0, 200)}`).join(' | ');
}
