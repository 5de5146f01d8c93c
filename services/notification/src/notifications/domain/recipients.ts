import { ForbiddenError, UnprocessableError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type Channel } from '@herald/contracts';
import { type Recipient } from '../data/notification-model';
import { type UserRecord } from '../../users/data/user-model';
import { type RecipientInput } from './types';
import { type ServiceContext } from '../../kernel/context';

/** The channels an address-only recipient can be reached on. */
const channelsForAddress = { email: ['email'], phone: ['sms'] } as const;

/**
 * Resolves who gets the notification from this service's own copy of
 * auth's users, and checks the sender may notify them: a user only
 * themself, an admin anyone.
 */
export async function resolveRecipient(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  input: RecipientInput,
  channels: Channel[],
): Promise<Recipient> {
  const isAdmin = sender.role === 'admin';
  if ('userId' in input) {
    if (!isAdmin && input.userId !== sender.id) {
      throw new ForbiddenError('forbidden_recipient', 'You may only notify yourself');
    }
    const user = await ctx.userDirectory.byId(input.userId);
    return recipientForUser(input.userId, user, channels);
  }

  const [field, value] =
    'email' in input ? (['email', input.email] as const) : (['phone', input.phone] as const);
  const reachable: readonly Channel[] = channelsForAddress[field];
  const unreachable = channels.filter((channel) => !reachable.includes(channel));
  if (unreachable.length > 0) {
    throw new UnprocessableError(
      'channel_unreachable',
      `A recipient given by ${field} can only be reached on ${reachable.join(', ')}, not ${unreachable.join(', ')}`,
    );
  }
  const owner = await ctx.models.users.findOne({ [field]: value }).lean<UserRecord>();
  if (!isAdmin && owner?._id !== sender.id) {
    throw new ForbiddenError('forbidden_recipient', 'You may only notify yourself');
  }
  return {
    [field]: value,
    ...(owner
      ? { userId: owner._id, name: owner.name, ...(owner.locale ? { locale: owner.locale } : {}) }
      : {}),
  };
}

function recipientForUser(userId: string, user: UserRecord | null, channels: Channel[]): Recipient {
  if (user?.disabled) throw new UnprocessableError('recipient_disabled', 'The recipient account is disabled');
  const needsUser = channels.some((channel) => channel !== 'in_app');
  if (needsUser && !user) {
    throw new UnprocessableError(
      'unknown_recipient',
      'No user with this id is known to the notification service',
    );
  }
  if (channels.includes('sms') && !user?.phone) {
    throw new UnprocessableError('recipient_unreachable', 'The recipient has no phone number for SMS');
  }
  if (!user) return { userId };
  return {
    userId,
    email: user.email,
    name: user.name,
    ...(user.phone ? { phone: user.phone } : {}),
    ...(user.locale ? { locale: user.locale } : {}),
  };
}
