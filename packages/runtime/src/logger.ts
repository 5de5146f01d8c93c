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
