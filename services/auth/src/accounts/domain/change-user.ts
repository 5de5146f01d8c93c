import { NotFoundError } from '@herald/runtime';
import { type Types, type UpdateQuery } from 'mongoose';
import { type OutboxEntry, type User } from '../data/user-model';
import { type AuthContext } from '../../context';
import { userSnapshot } from './user-views';

type StoredUser = User & { _id: Types.ObjectId; createdAt?: Date };

export interface UserChange {
  set?: Partial<User>;
  unset?: (keyof User)[];
  /** whether read-model fields change, so `user.updated` must be published */
  publishUpdated: boolean;
  /** further events, built from the state after the change */
  extraEvents?: (after: StoredUser) => OutboxEntry[];
}

const MAX_ATTEMPTS = 5;

/**
 * Applies a change to one user with its events in the same document update,
 * conditional on the revision it was computed from. `decide` sees the current
 * user and may throw (the change is no longer allowed); on a concurrent write
 * it runs again against the fresh document, so every snapshot published is
 * exactly a state that was saved.
 */
export async function changeUser(
  ctx: AuthContext,
  userId: Types.ObjectId | string,
  correlationId: string,
  decide: (user: StoredUser) => UserChange | null,
): Promise<StoredUser> {
  for (let attempt = 1; ; attempt += 1) {
    const current = await ctx.models.users.findById(userId).lean<StoredUser>();
    if (!current) throw new NotFoundError('user_not_found', 'No such user');
    const change = decide(current);
    if (!change) return current;

    const after: StoredUser = { ...current, ...change.set, revision: current.revision + 1 };
    for (const field of change.unset ?? []) delete after[field];
    const events = [
      ...(change.publishUpdated
        ? [ctx.outbox.entry('user.updated', userSnapshot(after), correlationId)]
        : []),
      ...(change.extraEvents?.(after) ?? []),
    ];
    const update: UpdateQuery<User> = { $set: { ...change.set }, $inc: { revision: 1 } };
    if (change.unset?.length) update.$unset = Object.fromEntries(change.unset.map((field) => [field, 1]));
    if (events.length) update.$push = { outbox: { $each: events } };

    const saved = await ctx.models.users
      .findOneAndUpdate({ _id: current._id, revision: current.revision }, update, { returnDocument: 'after' })
      .lean<StoredUser>();
    if (saved) {
      if (events.length) ctx.outbox.publishSoon(saved._id);
      return saved;
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`user ${String(userId)} kept changing under us`);
  }
}
