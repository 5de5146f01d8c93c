// One socket.io connection for the app's own live views (the timeline); the
// inbox component keeps its own. Opened on first use, closed at sign-out.
import { io, type Socket } from 'socket.io-client';
import { refresh } from './api';
import { session } from './session';

let socket: Socket | null = null;

export function liveSocket(): Socket {
  socket ??= io(location.origin, {
    path: '/socket.io',
    transports: ['websocket'],
    auth: (send) => send({ token: session.tokens?.accessToken ?? '' }),
  });
  // the access token lives minutes: hand the socket a fresh one before the server disconnects it
  socket.on('auth:expiring', () => {
    void refresh().then((ok) => {
      if (ok) socket?.emit('auth:refresh', session.tokens?.accessToken, () => undefined);
    });
  });
  return socket;
}

export function closeLiveSocket(): void {
  socket?.disconnect();
  socket = null;
}
