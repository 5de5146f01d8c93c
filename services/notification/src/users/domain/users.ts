import { mapMongoError } from '@herald/runtime/mongo';
import { type UserSnapshot } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';

/** Anything but `true`, absent included (a phone typed in before verification existed), is unverified. */
function phoneVerifiedIn(snapshot: UserSnapshot): boolean {
  return snapshot.phoneVerified === true;
}

/**
 * Replaces this service's copy of a user with auth's snapshot, unless a
 * newer snapshot is already held (events can arrive out of order). The
 * upsert's filter only matches an older copy; for a newer one it tries to
 * insert, hits the _id, and that duplicate means "keep what we have".
 */
export async function applyUserSnapshot(ctx: ServiceContext, snapshot: UserSnapshot, occurredAt: string) {
  const snapshotAt = new Date(occurredAt);
  const set = {
    email: snapshot.email,
    name: snapshot.name,
    role: snapshot.role,
    emailVerified: snapshot.emailVerified,
    phoneVerified: Boolean(snapshot.phone) && phoneVerifiedIn(snapshot),
    disabled: snapshot.disabled ?? false,
    snapshotAt,
  };
  const unset: Record<string, ''> = {};
  if (snapshot.locale) Object.assign(set, { locale: snapshot.locale });
  else unset.locale = '';
  if (snapshot.phone) Object.assign(set, { phone: snapshot.phone });
  else unset.phone = '';
  try {
    await ctx.models.users.updateOne(
      { _id: snapshot.userId, snapshotAt: { $lte: snapshotAt } },
      { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { upsert: true },
    );
  } catch (error) {
    if (mapMongoError(error) === error) throw error;
    ctx.log.info({ userId: snapshot.userId }, 'older user snapshot ignored');
  }
}
