import { isDeepStrictEqual } from 'node:util';
import { type SubscriberSnapshot } from '@herald/contracts';
import { NotFoundError, ValidationError, type FieldError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { decodeCursor, encodeCursor } from '@herald/runtime/mongo';
import { SUBSCRIBER_ID_PREFIX } from '@herald/runtime/http';
import { type UpdateQuery } from 'mongoose';
import { type AuthContext } from '../../context';
import { type Subscriber } from '../data/subscriber-model';
import { type OutboxEntry } from '../../outbox/data/outbox-entry';

export type StoredSubscriber = Omit<Subscriber, 'outbox'> & { _id: string; outbox?: OutboxEntry[] };

/** What an application says about one of its users (PUT replaces the whole of it). */
export interface SubscriberInput {
  email?: string;
  phone?: string;
  name?: string;
  locale?: string;
  timezone?: string;
  data?: Record<string, unknown>;
}

export interface SubscriberView extends SubscriberInput {
  externalId: string;
  subscriberId: string;
  createdAt: string;
  updatedAt: string;
  revision: number;
}

/** Free JSON for templates; bounded so one subscriber cannot bloat every event and read model. */
export const MAX_DATA_BYTES = 16 * 1024;
const PERSONAL_FIELDS = ['email', 'phone', 'name', 'locale', 'timezone', 'data'] as const;
/** What is stored of them: `data` as JSON text (see the model). */
export const STORED_PERSONAL_FIELDS = ['email', 'phone', 'name', 'locale', 'timezone', 'dataJson'] as const;

export const subscriberIdOf = (externalId: string) => `${SUBSCRIBER_ID_PREFIX}${externalId}`;

export function personalData(subscriber: SubscriberInput): SubscriberInput {
  return Object.fromEntries(
    PERSONAL_FIELDS.filter((field) => subscriber[field] !== undefined && subscriber[field] !== null).map(
      (field) => [field, subscriber[field]],
    ),
  );
}

/** The personal data of a stored subscriber, `data` parsed back. */
export function storedPersonalData(subscriber: StoredSubscriber): SubscriberInput {
  const { dataJson, ...rest } = subscriber;
  return personalData({
    ...(rest as SubscriberInput),
    ...(dataJson ? { data: JSON.parse(dataJson) as Record<string, unknown> } : {}),
  });
}

/** The personal data as stored: `data` as JSON text. */
export function toStored(input: SubscriberInput): Partial<StoredSubscriber> {
  const { data, ...rest } = input;
  return { ...rest, ...(data === undefined ? {} : { dataJson: JSON.stringify(data) }) };
}

export function subscriberView(subscriber: StoredSubscriber): SubscriberView {
  return {
    externalId: subscriber._id,
    subscriberId: subscriberIdOf(subscriber._id),
    ...storedPersonalData(subscriber),
    createdAt: subscriber.createdAt.toISOString(),
    updatedAt: subscriber.updatedAt.toISOString(),
    revision: subscriber.revision,
  };
}

/** `subscriber.upserted` carries the whole subscriber, as the API shows it. */
export const subscriberSnapshot = (subscriber: StoredSubscriber): SubscriberSnapshot =>
  subscriberView(subscriber);

/** What the schema cannot say: a real IANA zone, and the size of `data` in bytes. */
export function checkInput(input: SubscriberInput): void {
  const errors: FieldError[] = [];
  if (input.timezone !== undefined && !isTimeZone(input.timezone)) {
    errors.push({ field: '/body/timezone', message: 'is not an IANA time zone' });
  }
  if (input.data !== undefined && Buffer.byteLength(JSON.stringify(input.data)) > MAX_DATA_BYTES) {
    errors.push({ field: '/body/data', message: `must be at most ${MAX_DATA_BYTES} bytes of JSON` });
  }
  if (errors.length) throw new ValidationError('The request is invalid', errors);
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const MAX_ATTEMPTS = 5;

/**
 * Creates (`created: true`) or replaces a subscriber, with its
 * `subscriber.upserted` in the same write. The email and phone a trusted
 * application gives count as verified. An unchanged PUT writes nothing.
 */
export async function upsertSubscriber(
  ctx: AuthContext,
  externalId: string,
  input: SubscriberInput,
  correlationId: string,
): Promise<{ subscriber: SubscriberView; created: boolean }> {
  checkInput(input);
  const wanted = personalData(input);
  for (let attempt = 1; ; attempt += 1) {
    const current = await ctx.models.subscribers.findById(externalId).lean<StoredSubscriber>();
    const live = current && !current.deletedAt ? current : undefined;
    if (live && isDeepStrictEqual(storedPersonalData(live), wanted)) {
      return { subscriber: subscriberView(live), created: false };
    }
    const now = ctx.now();
    const stored = toStored(wanted);
    const after: StoredSubscriber = {
      _id: externalId,
      ...stored,
      createdAt: live?.createdAt ?? now,
      updatedAt: now,
      revision: (current?.revision ?? 0) + 1,
      outbox: [],
    };
    const entry = ctx.subscriberOutbox.entry('subscriber.upserted', subscriberSnapshot(after), correlationId);
    try {
      if (!current) {
        await ctx.models.subscribers.create({ ...after, outbox: [entry] });
      } else {
        const cleared = STORED_PERSONAL_FIELDS.filter((field) => stored[field] === undefined);
        const update: UpdateQuery<Subscriber> = {
          $set: { ...stored, createdAt: after.createdAt, updatedAt: now, revision: after.revision },
          $unset: Object.fromEntries([...cleared, 'deletedAt'].map((field) => [field, 1])),
          $push: { outbox: entry },
        };
        const saved = await ctx.models.subscribers.updateOne(
          { _id: externalId, revision: current.revision },
          update,
        );
        if (saved.matchedCount === 0) throw new ConcurrentChange();
      }
    } catch (error) {
      // another request created or changed it meanwhile: decide again on what is stored now
      if ((error instanceof ConcurrentChange || isDuplicateKeyError(error)) && attempt < MAX_ATTEMPTS)
        continue;
      throw error;
    }
    ctx.subscriberOutbox.publishSoon(externalId);
    return { subscriber: subscriberView(after), created: !live };
  }
}

class ConcurrentChange extends Error {}

async function findLive(ctx: AuthContext, externalId: string): Promise<StoredSubscriber> {
  const subscriber = await ctx.models.subscribers
    .findOne({ _id: externalId, deletedAt: { $exists: false } }, { outbox: 0 })
    .lean<StoredSubscriber>();
  if (!subscriber) throw new NotFoundError('subscriber_not_found', 'No such subscriber');
  return subscriber;
}

export async function getSubscriber(ctx: AuthContext, externalId: string): Promise<SubscriberView> {
  return subscriberView(await findLive(ctx, externalId));
}

/** Throws 404 unless the subscriber exists (and is not deleted). */
export async function assertSubscriberExists(ctx: AuthContext, externalId: string): Promise<void> {
  await findLive(ctx, externalId);
}

/** Which of these ids are live subscribers: one query per 1,000 ids. */
export async function liveSubscriberIds(ctx: AuthContext, externalIds: string[]): Promise<Set<string>> {
  const live = new Set<string>();
  for (let start = 0; start < externalIds.length; start += 1_000) {
    const found = await ctx.models.subscribers
      .find(
        { _id: { $in: externalIds.slice(start, start + 1_000) }, deletedAt: { $exists: false } },
        { _id: 1 },
      )
      .lean<{ _id: string }[]>();
    found.forEach((subscriber) => live.add(subscriber._id));
  }
  return live;
}

/** In external-id order: the cursor is the last id seen, so pages never skip or repeat under inserts. */
export async function listSubscribers(
  ctx: AuthContext,
  query: { limit: number; cursor?: string },
): Promise<{ items: SubscriberView[]; nextCursor: string | null }> {
  const filter: Record<string, unknown> = { deletedAt: { $exists: false } };
  if (query.cursor) filter._id = { $gt: decodeCursor(query.cursor, ['string'])[0] };
  const found = await ctx.models.subscribers
    .find(filter, { outbox: 0 })
    .sort({ _id: 1 })
    .limit(query.limit + 1)
    .lean<StoredSubscriber[]>();
  const page = found.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(subscriberView),
    nextCursor: found.length > query.limit && last ? encodeCursor([last._id]) : null,
  };
}

/**
 * Erases the subscriber's personal data, leaving a tombstone (id, dates,
 * revision) so a later PUT continues the revision. `subscriber.deleted` tells
 * the notification service to drop its copy and anonymise delivery records.
 */
export async function deleteSubscriber(
  ctx: AuthContext,
  externalId: string,
  correlationId: string,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const current = await findLive(ctx, externalId);
    const now = ctx.now();
    const revision = current.revision + 1;
    const entry = ctx.subscriberOutbox.entry(
      'subscriber.deleted',
      { externalId, subscriberId: subscriberIdOf(externalId), deletedAt: now.toISOString(), revision },
      correlationId,
    );
    const saved = await ctx.models.subscribers.updateOne(
      { _id: externalId, revision: current.revision },
      {
        $set: { deletedAt: now, updatedAt: now, revision },
        $unset: Object.fromEntries(STORED_PERSONAL_FIELDS.map((field) => [field, 1])),
        $push: { outbox: entry },
      },
    );
    if (saved.matchedCount === 1) {
      ctx.subscriberOutbox.publishSoon(externalId);
      return;
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`subscriber ${externalId} kept changing under us`);
  }
}
