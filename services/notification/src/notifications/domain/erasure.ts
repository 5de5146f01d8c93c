import { createHash } from 'node:crypto';
import { type QueryFilter } from 'mongoose';
import { type NotificationRecord } from '../data/notification-model';
import { type ServiceContext } from '../../kernel/context';

const HASH_PREFIX = 'sha256:';

/**
 * What an erased address becomes in a delivery record: `sha256:<hex>` of the
 * address as it was stored. The same address always gives the same hash, so
 * an operator can still answer "did we send to x?" given x, but the record
 * no longer gives the address.
 */
export function hashedAddress(address: string): string {
  return `${HASH_PREFIX}${createHash('sha256').update(address).digest('hex')}`;
}

/**
 * The notifications of an erased inbox owner (a deleted subscriber), created
 * up to `upTo`: delivery records, statuses and content stay (the audit of
 * what was sent), the recipient's email and phone become their hash and the
 * name goes. Each distinct address is one update, so this is idempotent and
 * needs no pipeline update.
 */
export async function anonymiseRecipient(ctx: ServiceContext, inboxOwnerId: string, upTo: Date) {
  const { notifications } = ctx.models;
  const filter: QueryFilter<NotificationRecord> = { userId: inboxOwnerId, createdAt: { $lte: upTo } };
  for (const field of ['recipient.email', 'recipient.phone'] as const) {
    const addresses = (await notifications.distinct(field, filter)) as unknown[];
    for (const address of addresses) {
      if (typeof address !== 'string' || address.startsWith(HASH_PREFIX)) continue;
      await notifications.updateMany(
        { ...filter, [field]: address },
        { $set: { [field]: hashedAddress(address) } },
      );
    }
  }
  await notifications.updateMany(
    { ...filter, 'recipient.name': { $exists: true } },
    { $unset: { 'recipient.name': '' } },
  );
}
