import { ConflictError, ValidationError } from '@herald/runtime';
import { decodeIdCursor, encodeIdCursor } from '@herald/runtime/mongo';
import { Types, type QueryFilter } from 'mongoose';
import { type User } from '../../accounts/data/user-model';
import { changeUser, type UserChange } from '../../accounts/domain/change-user';
import { publicUser, type PublicUserView } from '../../accounts/domain/user-views';
import { type AuthContext } from '../../context';
import { revokeSessions } from '../../sessions/domain/sessions';

export interface UserListQuery {
  limit: number;
  cursor?: string;
  role?: 'user' | 'admin';
  /** matches the start of the (lower-case) email */
  emailPrefix?: string;
}

/** Cursor pagination in `_id` order: the cursor is the last id seen, so pages never skip or repeat under inserts. */
export async function listUsers(
  ctx: AuthContext,
  query: UserListQuery,
): Promise<{ items: PublicUserView[]; nextCursor: string | null }> {
  const filter: QueryFilter<User> = {};
  if (query.role) filter.role = query.role;
  if (query.emailPrefix) filter.email = { $regex: `^${escapeRegex(query.emailPrefix.trim().toLowerCase())}` };
  if (query.cursor) filter._id = { $gt: decodeIdCursor(query.cursor) };
  const users = await ctx.models.users
    .find(filter, {
      passwordHash: 0,
      outbox: 0,
      emailVerification: 0,
      phoneVerification: 0,
      passwordReset: 0,
    })
    .sort({ _id: 1 })
    .limit(query.limit + 1)
    .lean();
  const page = users.slice(0, query.limit);
  const hasMore = users.length > query.limit;
  return {
    items: page.map(publicUser),
    nextCursor: hasMore ? encodeIdCursor(page[page.length - 1]!._id) : null,
  };
}

export interface AdminUserChange {
  role?: 'user' | 'admin';
  disabled?: boolean;
}

/** Role and disabled; a disabled user's sessions end at once, and their access tokens within their TTL. */
export async function changeUserAsAdmin(
  ctx: AuthContext,
  adminId: string,
  userId: string,
  change: AdminUserChange,
  correlationId: string,
): Promise<PublicUserView> {
  if (!Types.ObjectId.isValid(userId))
    throw new ValidationError('The user id is invalid', [
      { field: '/params/id', message: 'is not a user id' },
    ]);
  // An admin demoting or disabling themselves could leave nobody able to undo it.
  if (adminId === userId && (change.role === 'user' || change.disabled === true)) {
    throw new ConflictError('cannot_demote_self', 'Admins cannot demote or disable themselves');
  }
  const saved = await changeUser(ctx, userId, correlationId, (user) => {
    const set: UserChange['set'] = {};
    if (change.role !== undefined && change.role !== user.role) set.role = change.role;
    if (change.disabled !== undefined && change.disabled !== user.disabled) set.disabled = change.disabled;
    return Object.keys(set).length ? { set, publishUpdated: true } : null;
  });
  if (saved.disabled) await revokeSessions(ctx, userId);
  return publicUser(saved);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
