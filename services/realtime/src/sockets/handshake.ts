import { validateMessage } from '@herald/contracts';
import { AppError, ValidationError, type Logger } from '@herald/runtime';
import {
  API_KEY_PREFIX,
  bearerToken,
  type AuthenticatedUser,
  type TokenVerifier,
} from '@herald/runtime/http';
import { type RealtimeMetrics } from '../metrics/realtime-metrics';
import { type AccountStates } from './account-states';
import { type ConnectionsPerUser } from './connection-limit';
import { HandshakeAuth } from './protocol';
import { type RealtimeSocket } from './socket-types';

/** What a client sees in `connect_error`: `err.message` for people, `err.data.code` for code. */
export interface HandshakeErrorData {
  code: string;
  status: number;
}

export interface HandshakeOptions {
  verifier: TokenVerifier;
  connections: ConnectionsPerUser;
  /** what `user.updated` told this instance: disabled accounts and outdated roles are refused */
  accounts: AccountStates;
  metrics: RealtimeMetrics;
  log: Logger;
}

/**
 * Socket.IO middleware: proves who is connecting before the socket exists.
 * The token comes from `auth.token` (browsers cannot set headers on a
 * WebSocket) or an `Authorization: Bearer` header (server-side clients).
 * A person connects with their access token, an application's subscriber
 * with an inbox token (its room is `user:sub:<externalId>`); an API key is
 * refused (see `verifySocketToken`).
 */
export function authenticateHandshake(options: HandshakeOptions) {
  const { verifier, connections, accounts, metrics, log } = options;
  return async (socket: RealtimeSocket, next: (error?: Error) => void): Promise<void> => {
    try {
      const auth = readHandshakeAuth(socket.handshake.auth);
      const token = auth.token ?? bearerToken(socket.handshake.headers.authorization);
      if (!token) {
        throw new AppError(
          401,
          'missing_token',
          'An access token or inbox token is required: send it as auth.token or an Authorization: Bearer header',
        );
      }
      const user = await verifySocketToken(verifier, token);
      const refusal = accounts.refusal(user);
      if (refusal) throw new AppError(refusal.status, refusal.code, refusal.message);
      if (!connections.tryReserve(user.id, socket.id)) {
        throw new AppError(429, 'too_many_connections', 'Too many open connections for this user');
      }
      const release = () => connections.release(user.id, socket.id);
      // A socket refused after this point never emits `disconnect`; its transport still closes.
      socket.once('disconnect', release);
      socket.conn.once('close', release);
      socket.data = { user, token, since: auth.since };
      next();
    } catch (error) {
      const rejection = toHandshakeError(error, log);
      metrics.handshakesRejected.inc({ code: rejection.data.code });
      next(rejection);
    }
  };
}

/**
 * Verifies a token a socket presents, at the handshake and in `auth:refresh`.
 * Sockets are for people (access tokens) and subscribers (inbox tokens): an
 * API key is an application's server-side credential and never belongs in a
 * browser, so it is refused as such (403 `principal_not_allowed`), valid or
 * not, before anything else. Realtime keeps no read model of keys.
 */
export async function verifySocketToken(verifier: TokenVerifier, token: string): Promise<AuthenticatedUser> {
  if (token.startsWith(API_KEY_PREFIX)) {
    throw new AppError(
      403,
      'principal_not_allowed',
      'Sockets are for people and subscribers: connect with an access token or an inbox token, not an API key',
    );
  }
  const principal = await verifier.verify(token);
  if (principal.kind !== 'user' && principal.kind !== 'subscriber') {
    throw new AppError(403, 'principal_not_allowed', 'Sockets take only access tokens and inbox tokens');
  }
  return principal;
}

function readHandshakeAuth(auth: unknown): HandshakeAuth {
  const result = validateMessage(HandshakeAuth, auth ?? {});
  if (result.ok) return result.value;
  const errors = result.errors.map((issue) => ({ field: `auth${issue.path}`, message: issue.message }));
  throw new ValidationError(
    `Invalid handshake: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
    errors,
    'invalid_handshake',
  );
}

function toHandshakeError(error: unknown, log: Logger): Error & { data: HandshakeErrorData } {
  if (error instanceof AppError) {
    return Object.assign(new Error(error.detail), { data: { code: error.code, status: error.status } });
  }
  log.error({ err: error }, 'handshake failed unexpectedly');
  return Object.assign(new Error('The connection could not be authenticated right now'), {
    data: { code: 'internal_error', status: 500 },
  });
}
