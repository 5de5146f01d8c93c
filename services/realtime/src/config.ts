import { Type } from '@sinclair/typebox';
import {
  AmqpEnv,
  CommonEnv,
  JwtVerifyEnv,
  ProxyEnv,
  loadConfigOrExit,
  refuseDevelopmentSecrets,
} from '@herald/runtime';

export const RealtimeEnv = {
  ...CommonEnv,
  ...AmqpEnv,
  ...JwtVerifyEnv,
  ...ProxyEnv,
  PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 3004 }),
  /** where catch-up reads what a reconnecting client missed (the notification service, or the gateway) */
  NOTIFICATION_API_URL: Type.String({ minLength: 1, default: 'http://127.0.0.1:3002' }),
  NOTIFICATION_API_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5000 }),
  /** most notifications one catch-up replays; beyond it the client is told to reload its inbox */
  CATCH_UP_MAX_ITEMS: Type.Integer({ minimum: 1, maximum: 10000, default: 500 }),
  /** names this instance's fan-out queue; a fresh random one by default, so a restart never meets its old queue */
  INSTANCE_ID: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$' })),
  /** unacked events in flight; emitting is cheap, so a high value keeps the pipe full */
  AMQP_PREFETCH: Type.Integer({ minimum: 1, maximum: 65535, default: 200 }),
  /** the fan-out queue's bound: a stalled instance sheds its oldest events instead of filling the broker */
  REALTIME_QUEUE_MAX_LENGTH: Type.Integer({ minimum: 1, default: 100000 }),
  /** per user, per instance: a leaked-tab loop cannot take every socket slot */
  REALTIME_MAX_CONNECTIONS_PER_USER: Type.Integer({ minimum: 1, default: 10 }),
  /** bytes a client may send in one message; clients only send tokens */
  REALTIME_MAX_HTTP_BUFFER_BYTES: Type.Integer({ minimum: 1024, default: 16 * 1024 }),
  REALTIME_PING_INTERVAL_MS: Type.Integer({ minimum: 1000, default: 25000 }),
  REALTIME_PING_TIMEOUT_MS: Type.Integer({ minimum: 1000, default: 20000 }),
  /** packets waiting for a slow client before it is disconnected (it catches up on reconnect) */
  REALTIME_MAX_BUFFERED_PACKETS: Type.Integer({ minimum: 1, default: 500 }),
  /**
   * Accounts whose latest `user.updated` (disabled, role) each instance keeps, to refuse their
   * still-valid tokens; past it the longest-unheard is forgotten (~100 bytes each)
   */
  REALTIME_KNOWN_ACCOUNTS_MAX: Type.Integer({ minimum: 1, default: 100000 }),
  /** how long before its token expires a socket is asked to re-authenticate */
  REALTIME_REAUTH_LEAD_MS: Type.Integer({ minimum: 0, default: 60000 }),
};

export const loadConfig = () =>
  loadConfigOrExit('realtime', RealtimeEnv, process.env, refuseDevelopmentSecrets);
export type Config = ReturnType<typeof loadConfig>;
