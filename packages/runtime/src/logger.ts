import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks out before a line is written. Secrets never reach a log,
 * whatever object they ride in on: request headers, bodies logged on error,
 * config dumps, provider options.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-twilio-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'authorization',
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  'apiKey',
  'authToken',
  'secret',
  'signingKey',
  'privateKey',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.apiKey',
  '*.authToken',
  '*.secret',
  '*.signingKey',
  '*.privateKey',
  '*.*.password',
  '*.*.token',
  '*.*.apiKey',
  // HTTP client errors (axios under twilio, mailgun.js) carry the request's credentials.
  'err.config.headers.Authorization',
  'err.config.headers.authorization',
  'err.config.auth',
  'err.cause.config.headers.Authorization',
  'err.cause.config.headers.authorization',
  'err.cause.config.auth',
];

export interface LoggerConfig {
  name: string;
  level: string;
  format: 'json' | 'pretty';
}

export function createLogger(config: LoggerConfig, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (destination) return pino(options, destination);
  if (config.format === 'pretty') {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(options);
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * `parent.child(bindings)`, made on first use. A pino child is not free: its bindings go through
 * the serialisers and the redaction of REDACTED_PATHS once, at creation. A consumer or a handler
 * that makes one per message and then logs nothing at the configured level (most messages) pays
 * that for nothing; with this, a call at a disabled level returns a no-op and makes no child.
 * Levels are the parent's (a child shares them), so asking for one makes no child either, and a
 * lazy child of a lazy child stays lazy.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const noop = () => undefined;
  return new Proxy(parent, {
    get(_, property) {
      if (property === 'isLevelEnabled' || property === 'level') {
        const value: unknown = Reflect.get(parent, property, parent);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(parent) : value;
      }
      if (typeof property === 'string' && LEVELS.has(property) && !parent.isLevelEnabled(property)) {
        return noop;
      }
      child ??= parent.child(bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
    },
  });
}
