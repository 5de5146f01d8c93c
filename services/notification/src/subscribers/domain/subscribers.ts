import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type SubscriberDeletedPayload, type SubscriberSnapshot } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { anonymiseRecipient } from '../../notifications/domain/erasure';

const PERSONAL_FIELDS = ['email', 'phone', 'name', 'locale', 'timezone', 'dataJson'] as const;

/**
 * Writes a snapshot unless the copy held is as new or newer (`revision`):
 * the filter only matches an older copy; for a newer one the upsert hits
 * the _id, and that duplicate means "keep what we have".
 */
async function replaceIfNewer(
  ctx: ServiceContext,
  externalId: string,
  revision: number,
  set: Record<string, unknown>,
  unset: Record<string, ''>,
): Promise<boolean> {
  try {
    await ctx.models.subscribers.updateOne(
      { _id: externalId, revision: { $lt: revision } },
      { $set: { ...set, revision }, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { upsert: true },
    );
    return true;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    ctx.log.info({ externalId, revision }, 'older subscriber snapshot ignored');
    return false;
  }
}

/** `subscriber.upserted`: the whole subscriber replaces the copy (a field left out is removed). */
export async function applySubscriberSnapshot(ctx: ServiceContext, snapshot: SubscriberSnapshot) {
  const values: Partial<Record<(typeof PERSONAL_FIELDS)[number], string>> = {
    email: snapshot.email,
    phone: snapshot.phone,
    name: snapshot.name,
    locale: snapshot.locale,
    timezone: snapshot.timezone,
    dataJson: snapshot.data === undefined ? undefined : JSON.stringify(snapshot.data),
  };
  const set: Record<string, unknown> = { subscriberId: snapshot.subscriberId };
  const unset: Record<string, ''> = { deletedAt: '' };
  for (const field of PERSONAL_FIELDS) {
    if (values[field] !== undefined) set[field] = values[field];
    else unset[field] = '';
  }
  await replaceIfNewer(ctx, snapshot.externalId, snapshot.revision, set, unset);
}

/**
 * `subscriber.deleted`: the read model keeps a tombstone without personal
 * data, and the notifications sent to the subscriber before the deletion
 * keep their delivery records with the recipient's addresses replaced by a
 * hash and the name removed. Redelivered or late, it does the same again
 * (the anonymising is idempotent; a newer re-creation keeps its data).
 */
export async function applySubscriberDeleted(ctx: ServiceContext, deleted: SubscriberDeletedPayload) {
  const unset = Object.fromEntries(PERSONAL_FIELDS.map((field) => [field, ''] as const));
  const deletedAt = new Date(deleted.deletedAt);
  await replaceIfNewer(
    ctx,
    deleted.externalId,
    deleted.revision,
    { subscriberId: deleted.subscriberId, deletedAt },
    unset,
  );
  await anonymiseRecipient(ctx, deleted.subscriberId, deletedAt);
}
