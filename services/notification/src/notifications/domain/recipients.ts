import { ForbiddenError, UnprocessableError } from '@herald/runtime';
import { hasScope, Scopes, SUBSCRIBER_ID_PREFIX, type AuthenticatedUser } from '@herald/runtime/http';
import { type Channel } from '@herald/contracts';
import { type Recipient } from '../data/notification-model';
import { type UserRecord } from '../../users/data/user-model';
import { type RecipientInput } from './types';
import { type ServiceContext } from '../../kernel/context';
import { UnprocessableFieldsError } from '../../templates/domain/errors';
import { assertSmsDestinationAllowed } from './sms-destination';
import { assertPushReachable } from '../../push-subscriptions/domain/push-subscriptions';

/** The channels an address-only recipient can be reached on. */
const channelsForAddress = { email: ['email'], phone: ['sms'] } as const;

/** What proves a user owns each kind of address in the read model. */
const verifiedFlag = { email: 'emailVerified', phone: 'phoneVerified' } as const;

/** A Herald user id as auth makes them (a MongoDB ObjectId in hex). */
const USER_ID = /^[0-9a-f]{24}$/;

/**
 * Who may notify any user or subscriber: an admin (user or `admin` key), or
 * an application's API key with `notifications:send`. Everyone else notifies
 * only themself.
 */
function mayNotifyAnyone(sender: AuthenticatedUser): boolean {
  return sender.role === 'admin' || (sender.kind === 'apikey' && hasScope(sender, Scopes.notificationsSend));
}

/**
 * Resolves who gets the notification from this service's own copy of
 * auth's users, and checks the sender may notify them: a user only
 * themself, an admin anyone. An address belongs to a user only once that
 * user verified it: email and SMS go only to verified addresses of a
 * user, and an address given as the recipient resolves to the user who
 * verified it, never to someone who merely typed it into a profile.
 */
export async function resolveRecipient(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  input: RecipientInput,
  channels: Channel[],
): Promise<Recipient> {
  const recipient = await recipientOf(ctx, sender, input, channels);
  if (channels.includes('sms')) assertSmsDestinationAllowed(recipient.phone!, ctx.settings.smsAllowList);
  if (channels.includes('push')) await assertPushReachable(ctx, recipient.userId);
  return recipient;
}

async function recipientOf(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  input: RecipientInput,
  channels: Channel[],
): Promise<Recipient> {
  const isAdmin = sender.role === 'admin';
  if ('subscriberId' in input) return subscriberRecipient(ctx, sender, input.subscriberId, channels);
  if ('userId' in input) {
    if (!mayNotifyAnyone(sender) && input.userId !== sender.id) {
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
  const owner = await ctx.models.users
    .findOne({ [field]: value, [verifiedFlag[field]]: true })
    .lean<UserRecord>();
  if (!isAdmin && owner?._id !== sender.id) {
    // Their own address, not verified yet, deserves the reason rather than a bare 403.
    const self = await ctx.userDirectory.byId(sender.id);
    if (self?.[field] === value) throw unverified(field === 'email' ? 'email' : 'sms', channels);
    throw new ForbiddenError('forbidden_recipient', 'You may only notify yourself');
  }
  // Nobody verified it: an outside address, with no user and no inbox.
  return {
    [field]: value,
    ...(owner
      ? { userId: owner._id, name: owner.name, ...(owner.locale ? { locale: owner.locale } : {}) }
      : {}),
  };
}

/**
 * `recipient: { subscriberId }`: a Herald user when the id is a user id
 * (24 hex) the read model knows, else the application's subscriber by its
 * external id, else (for ids of another shape) a user after all; neither:
 * 422 `unknown_recipient`. A subscriber's inbox is `sub:<externalId>`; its
 * email and phone were given by a trusted application, so they count as
 * verified, and its locale picks the template's variant.
 */
async function subscriberRecipient(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  id: string,
  channels: Channel[],
): Promise<Recipient> {
  const userFirst = USER_ID.test(id) ? await ctx.userDirectory.byId(id) : null;
  const subscriber = userFirst ? null : await ctx.subscribers.byExternalId(id);
  const user = userFirst ?? (subscriber ? null : await ctx.userDirectory.byId(id));
  if (!user && !subscriber) {
    throw new UnprocessableError('unknown_recipient', 'No subscriber or user with this id is known');
  }
  const inboxOwner = user ? id : `${SUBSCRIBER_ID_PREFIX}${id}`;
  if (!mayNotifyAnyone(sender) && inboxOwner !== sender.id) {
    throw new ForbiddenError('forbidden_recipient', 'You may only notify yourself');
  }
  if (user) return recipientForUser(id, user, channels);
  const { email, phone, name, locale } = subscriber!;
  if (channels.includes('email') && !email) {
    throw new UnprocessableError('recipient_unreachable', 'The subscriber has no email address');
  }
  if (channels.includes('sms') && !phone) {
    throw new UnprocessableError('recipient_unreachable', 'The subscriber has no phone number for SMS');
  }
  return {
    userId: inboxOwner,
    ...(email ? { email } : {}),
    ...(phone ? { phone } : {}),
    ...(name ? { name } : {}),
    ...(locale ? { locale } : {}),
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
  // The whole request is refused, rather than that channel skipped: the sender learns at once why.
  if (channels.includes('email') && !user?.emailVerified) throw unverified('email', channels);
  if (channels.includes('sms') && user?.phoneVerified !== true) throw unverified('sms', channels);
  if (!user) return { userId };
  return {
    userId,
    email: user.email,
    name: user.name,
    ...(user.phone ? { phone: user.phone } : {}),
    ...(user.locale ? { locale: user.locale } : {}),
  };
}

/** 422 `address_unverified`, naming the channel in the detail and as `/body/channels/<i>`. */
function unverified(channel: 'email' | 'sms', channels: readonly Channel[]): UnprocessableFieldsError {
  const what = channel === 'sms' ? 'phone number' : 'email address';
  return new UnprocessableFieldsError(
    'address_unverified',
    `The ${channel} channel needs a verified ${what}: the recipient's ${what} is not verified`,
    [{ field: `/body/channels/${channels.indexOf(channel)}`, message: `the ${what} is not verified` }],
  );
}
