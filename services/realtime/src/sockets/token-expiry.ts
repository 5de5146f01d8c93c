import { ClientEvents, ServerEvents } from '@herald/contracts';
import { AppError, type Logger } from '@herald/runtime';
import { type TokenVerifier } from '@herald/runtime/http';
import { type AccountStates } from './account-states';
import { verifySocketToken } from './handshake';
import { adminRoom, type RefreshAck } from './protocol';
import { type RealtimeSocket } from './socket-types';

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The clock and timers token expiry runs on: the system's in production; tests pass manual
 * timers and move the time to the warning and the expiry instead of waiting for them.
 */
export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

export interface TokenExpiryOptions {
  verifier: TokenVerifier;
  /** how long before expiry the client is asked for a fresh token */
  reauthLeadMs: number;
  /** a fresh token of a disabled account, or with an outdated role, is refused like at the handshake */
  accounts: AccountStates;
  log: Logger;
  timers: Timers;
}

/**
 * A socket lives no longer than the token it proved itself with. Ahead of
 * expiry the client gets `auth:expiring`; it answers with `auth:refresh`
 * and a fresh token of the same user, or it is disconnected at expiry
 * (after `auth:expired`, with a server disconnect, so it does not silently
 * reconnect with the dead token). A subscriber's socket refreshes the same
 * way with a new inbox token of the same subscriber.
 */
export function superviseTokenExpiry(socket: RealtimeSocket, options: TokenExpiryOptions): void {
  const { verifier, reauthLeadMs, accounts, log, timers } = options;
  let warnTimer: unknown;
  let expiryTimer: unknown;

  const clearTimers = () => {
    timers.clearTimeout(warnTimer);
    timers.clearTimeout(expiryTimer);
  };

  const schedule = () => {
    clearTimers();
    const expiresAt = socket.data.user.tokenExpiresAt;
    const untilExpiry = expiresAt.getTime() - timers.now();
    // setTimeout fires at once for delays past 2^31-1 ms; a far expiry is rescheduled when that nears.
    if (untilExpiry > MAX_TIMER_MS) {
      expiryTimer = timers.setTimeout(schedule, MAX_TIMER_MS);
      return;
    }
    warnTimer = timers.setTimeout(
      () => socket.emit(ServerEvents.authExpiring, { expiresAt: expiresAt.toISOString() }),
      Math.max(0, untilExpiry - reauthLeadMs),
    );
    expiryTimer = timers.setTimeout(
      () => {
        log.info(
          { userId: socket.data.user.id, socketId: socket.id },
          'token expired; disconnecting the socket',
        );
        socket.emit(ServerEvents.authExpired, { code: 'token_expired' });
        socket.disconnect(true);
      },
      Math.max(0, untilExpiry),
    );
  };

  socket.on(ClientEvents.authRefresh, (token, ack) => {
    void refresh(token).then((result) => {
      if (typeof ack === 'function') ack(result);
    });
  });
  socket.once('disconnect', clearTimers);
  schedule();

  async function refresh(token: unknown): Promise<RefreshAck> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 8192) {
      return {
        ok: false,
        code: 'invalid_token',
        message: 'auth:refresh takes the access token (or inbox token) as a string',
      };
    }
    try {
      const user = await verifySocketToken(verifier, token);
      // A subscriber's id (`sub:…`) never equals a user's; the kind is compared too, to say so plainly.
      if (user.kind !== socket.data.user.kind || user.id !== socket.data.user.id) {
        return {
          ok: false,
          code: 'user_mismatch',
          message:
            user.kind === socket.data.user.kind
              ? `The token belongs to another ${user.kind}`
              : 'The token is not of the kind this socket connected with',
        };
      }
      const refusal = accounts.refusal(user);
      if (refusal) return { ok: false, code: refusal.code, message: refusal.message };
      if (user.role === 'admin') void socket.join(adminRoom);
      else void socket.leave(adminRoom);
      socket.data.user = user;
      socket.data.token = token;
      schedule();
      return { ok: true, expiresAt: user.tokenExpiresAt.toISOString() };
    } catch (error) {
      if (error instanceof AppError) return { ok: false, code: error.code, message: error.detail };
      log.error({ err: error }, 'token refresh failed unexpectedly');
      return { ok: false, code: 'internal_error', message: 'The token could not be checked right now' };
    }
  }
}
