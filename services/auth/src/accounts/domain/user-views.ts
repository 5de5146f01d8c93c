import { type UserSnapshot } from '@herald/contracts';
import { type Types } from 'mongoose';

/** The fields the views read; both a stored user and one about to be inserted have them. */
interface ViewableUser {
  _id: Types.ObjectId;
  email: string;
  name: string;
  locale?: string | null;
  phone?: string | null;
  phoneVerified?: boolean | null;
  role: 'user' | 'admin';
  emailVerified: boolean;
  disabled: boolean;
  revision: number;
  createdAt?: Date;
}

/** The user as the API shows it: never the hash, the tokens or the outbox. */
export type PublicUserView = ReturnType<typeof publicUser>;

/** What the API view and the events share: who the user is and what is verified. */
function profileOf(user: ViewableUser) {
  return {
    email: user.email,
    name: user.name,
    ...(user.locale ? { locale: user.locale } : {}),
    ...(user.phone ? { phone: user.phone } : {}),
    role: user.role,
    emailVerified: user.emailVerified,
    phoneVerified: user.phoneVerified ?? false,
    disabled: user.disabled,
  };
}

export function publicUser(user: ViewableUser) {
  return {
    id: user._id.toHexString(),
    ...profileOf(user),
    createdAt: (user.createdAt ?? user._id.getTimestamp()).toISOString(),
  };
}

/**
 * What `user.registered` and `user.updated` carry: the whole read model, so
 * the consumer replaces its copy. `revision` (an extra payload field, which
 * the contract allows) orders snapshots.
 */
export function userSnapshot(user: ViewableUser): UserSnapshot & { revision: number } {
  return { userId: user._id.toHexString(), ...profileOf(user), revision: user.revision };
}
