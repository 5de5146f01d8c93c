import { TextDecoder } from 'node:util';
import { type QueryFilter } from 'mongoose';
import { ConflictError, NotFoundError } from '@herald/runtime';
import { decodeTimeIdCursor, encodeTimeIdCursor, olderThan } from '@herald/runtime/mongo';
import { PageLimits, type CursorPage } from '@herald/contracts';
import { type DeadLetterModel, type DeadLetterRecord } from '../data/model';
import { type DeadLetterDetail, type DeadLetterListQuery, type DeadLetterSummary } from './types';

/** The list never carries bodies or headers: a page of large messages would be megabytes. */
const SUMMARY_PROJECTION = { content: 0, headers: 0, dedupeKey: 0 } as const;

export async function listDeadLetters(
  deadLetters: DeadLetterModel,
  query: DeadLetterListQuery,
): Promise<CursorPage<DeadLetterSummary>> {
  const limit = query.limit ?? PageLimits.default;
  const filter: QueryFilter<DeadLetterRecord> = {};
  if (query.reason) filter.reason = query.reason;
  if (query.channel) filter.channel = query.channel;
  if (query.notificationId) filter.notificationId = query.notificationId;
  if (query.state) filter.state = query.state;
  if (query.cursor) {
    Object.assign(filter, olderThan('deadLetteredAt', decodeTimeIdCursor(query.cursor)));
  }
  const records = await deadLetters
    .find(filter, SUMMARY_PROJECTION)
    .sort({ deadLetteredAt: -1, _id: -1 })
    .limit(limit + 1)
    .lean<DeadLetterRecord[]>();
  const page = records.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(deadLetterSummary),
    nextCursor:
      records.length > limit && last ? encodeTimeIdCursor({ at: last.deadLetteredAt, id: last._id }) : null,
  };
}

export async function findDeadLetter(deadLetters: DeadLetterModel, id: string): Promise<DeadLetterRecord> {
  const record = await deadLetters.findById(id, { dedupeKey: 0 }).lean<DeadLetterRecord>();
  if (!record) throw new NotFoundError('dead_letter_not_found', 'No such dead letter');
  return record;
}

/**
 * Discarding deletes the record for good. One being replayed right now is
 * left alone: its message may already be on its way back to the work queue.
 */
export async function discardDeadLetter(deadLetters: DeadLetterModel, id: string): Promise<DeadLetterRecord> {
  const record = await deadLetters
    .findOneAndDelete(
      { _id: id, state: { $in: ['pending', 'replayed'] } },
      { projection: SUMMARY_PROJECTION },
    )
    .lean<DeadLetterRecord>();
  if (record) return record;
  await findDeadLetter(deadLetters, id);
  throw new ConflictError('replay_in_progress', 'This dead letter is being replayed; discard it afterwards');
}

export function deadLetterSummary(record: DeadLetterRecord): DeadLetterSummary {
  return {
    id: record._id.toHexString(),
    state: record.state,
    reason: record.reason,
    errorCode: record.errorCode,
    lastError: record.lastError,
    attempts: record.attempts,
    messageId: record.messageId,
    correlationId: record.correlationId,
    messageType: record.messageType,
    notificationId: record.notificationId,
    channel: record.channel,
    originalQueue: record.originalQueue,
    firstFailedAt: record.firstFailedAt?.toISOString() ?? null,
    deadLetteredAt: record.deadLetteredAt.toISOString(),
    receivedAt: record.receivedAt.toISOString(),
    replay: record.replay
      ? {
          by: record.replay.by,
          startedAt: record.replay.startedAt.toISOString(),
          replayedAt: record.replay.at?.toISOString() ?? null,
          exchange: record.replay.exchange ?? null,
          routingKey: record.replay.routingKey ?? null,
        }
      : null,
  };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function deadLetterDetail(record: DeadLetterRecord): DeadLetterDetail {
  const content = contentBuffer(record.content);
  let text: string | undefined;
  try {
    text = strictUtf8.decode(content);
  } catch {
    text = undefined;
  }
  let payload: unknown;
  let parsed = false;
  if (text !== undefined) {
    try {
      payload = JSON.parse(text) as unknown;
      parsed = true;
    } catch {
      parsed = false;
    }
  }
  return {
    ...deadLetterSummary(record),
    originalExchange: record.originalExchange,
    originalRoutingKey: record.originalRoutingKey,
    contentType: record.contentType,
    validEnvelope: record.validEnvelope,
    headers: Object.fromEntries(record.headers.map((header) => [header.name, header.value])),
    body:
      text === undefined
        ? { encoding: 'base64', data: content.toString('base64') }
        : { encoding: 'utf8', data: text },
    ...(parsed ? { payload } : {}),
  };
}

/** A lean read hands back BSON Binary, not a Buffer. */
export function contentBuffer(content: unknown): Buffer {
  if (Buffer.isBuffer(content)) return content;
  const binary = content as { buffer?: unknown; value?: () => unknown };
  if (binary.buffer instanceof Uint8Array) return Buffer.from(binary.buffer);
  return Buffer.from(content as Uint8Array);
}
