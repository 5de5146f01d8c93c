import { createHash } from 'node:crypto';
import { type ConsumeMessage } from 'amqplib';
import { readRetryAttempts } from '@herald/amqp';
import { Channels, Headers, validateKnownMessage } from '@herald/contracts';
import { type DeadLetterRecord, type StoredHeader } from '../data/model';

export type CapturedDeadLetter = Omit<DeadLetterRecord, '_id' | 'replay'>;

/**
 * What the DLQ drain stores for one message: the bytes as they are, the
 * headers our consumer wrote (`Headers` in contracts), and whatever the body
 * tells when it is a Herald envelope. Never throws: a message that is not
 * even JSON is stored like any other, so the drain cannot crash-loop on it.
 */
export function captureDeadLetter(message: ConsumeMessage, receivedAt: Date): CapturedDeadLetter {
  const { properties } = message;
  const rawHeaders = (properties.headers ?? {}) as Record<string, unknown>;
  const header = (name: string) => textOf(rawHeaders[name]);
  const body = parseJson(message.content);
  const envelope = body.ok ? validateKnownMessage(body.value) : undefined;
  const payload = body.ok ? payloadOf(body.value) : {};
  const messageId = textOf(properties.messageId) ?? textOf(recordOf(body.ok ? body.value : null).messageId);
  const deadLetteredAtHeader = header(Headers.deadLetteredAt);

  return {
    dedupeKey: dedupeKeyOf(message, messageId, deadLetteredAtHeader),
    state: 'pending',
    messageId,
    correlationId:
      textOf(properties.correlationId) ?? textOf(recordOf(body.ok ? body.value : null).correlationId),
    messageType: textOf(recordOf(body.ok ? body.value : null).type) ?? textOf(properties.type),
    contentType: textOf(properties.contentType),
    content: message.content,
    validEnvelope: envelope?.ok === true,
    headers: Object.entries(rawHeaders).map(([name, value]): StoredHeader => ({ name, value: plain(value) })),
    // A message the broker dead-lettered by itself (a quorum queue's delivery limit) has no reason of ours.
    reason: header(Headers.deadLetterReason) ?? header('x-first-death-reason') ?? 'unknown',
    errorCode: header(Headers.errorCode),
    lastError: header(Headers.lastError),
    // The consumer writes the retries before the last attempt, so attempts made is one more.
    attempts: readRetryAttempts(rawHeaders[Headers.retryAttempts]) + 1,
    originalQueue: header(Headers.originalQueue) ?? header('x-first-death-queue'),
    originalExchange: header(Headers.originalExchange) ?? header('x-first-death-exchange'),
    originalRoutingKey: header(Headers.originalRoutingKey),
    notificationId: textOf(payload.notificationId),
    channel: Channels.find((channel) => channel === payload.channel) ?? null,
    firstFailedAt: dateOf(header(Headers.firstFailedAt)),
    deadLetteredAt: dateOf(deadLetteredAtHeader) ?? receivedAt,
    receivedAt,
  };
}

/*
 * The same dead-lettering of the same message, delivered twice (the ack was
 * lost), must land on one record; the same message dead-lettered again after
 * a replay is a new one. Our consumer stamps each dead-lettering with its
 * time; the broker's own dead-lettering counts in `x-death`.
 */
function dedupeKeyOf(message: ConsumeMessage, messageId: string | null, deadLetteredAt: string | null) {
  const identity = messageId ?? `sha256:${createHash('sha256').update(message.content).digest('hex')}`;
  const deaths = (message.properties.headers as Record<string, unknown> | undefined)?.['x-death'];
  const occurrence = deadLetteredAt ?? (deaths === undefined ? '' : JSON.stringify(plain(deaths)));
  return `${identity}|${occurrence}`;
}

function parseJson(content: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(content.toString('utf8')) as unknown };
  } catch {
    return { ok: false };
  }
}

function recordOf(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function payloadOf(value: unknown): Record<string, unknown> {
  return recordOf(recordOf(value).payload);
}

function textOf(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return String(value);
  return null;
}

function dateOf(value: string | null): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Header values as JSON can carry them (amqplib hands out Buffers for long strings, Dates for timestamps). */
function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  }
  return value;
}
