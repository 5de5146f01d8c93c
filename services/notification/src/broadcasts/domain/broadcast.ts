import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { NotFoundError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type Channel } from '@herald/contracts';
import { type BroadcastRecord } from '../data/broadcast-model';
import { type UserRecord } from '../../users/data/user-model';
import { type BroadcastInput, type BroadcastProgress } from './types';
import { type ServiceContext } from '../../kernel/context';
import { storeNotificationBatch } from '../../notifications/domain/store-batch';
import { smsDestinationVerdict } from '../../notifications/domain/sms-destination';
import { publishBatchNow } from '../../outbox/domain/outbox';
import {
  assertOneContentSource,
  recipientContent,
  renderFanOutContent,
} from '../../notifications/domain/templated-content';
import { ownersWithPushSubscriptions } from '../../push-subscriptions/domain/push-subscriptions';

/*
 * A broadcast fans out in batches walked in _id order over the user read
 * model, never holding more than one batch in memory. After each batch the
 * broadcast document records its checkpoint (`lastUserId`) under a lease;
 * if the instance dies, the relay on any instance claims the lapsed lease
 * and resumes from the checkpoint. A recipient's notification has the
 * dedupe key `broadcast:<id>:<user>`, so a batch redone after a crash
 * creates nobody's notification twice.
 */

const audienceFilter = (broadcast: Pick<BroadcastRecord, 'role'>) => ({
  disabled: false,
  ...(broadcast.role ? { role: broadcast.role } : {}),
});

export function broadcastProgress(record: BroadcastRecord): BroadcastProgress {
  return {
    id: record._id.toHexString(),
    state: record.state,
    recipientCount: record.recipientCount,
    processedCount: record.processedCount,
    createdAt: record.createdAt.toISOString(),
    ...(record.completedAt ? { completedAt: record.completedAt.toISOString() } : {}),
  };
}

export async function startBroadcast(
  ctx: ServiceContext,
  sender: AuthenticatedUser,
  input: BroadcastInput,
  correlationId: string,
): Promise<BroadcastProgress> {
  assertOneContentSource(input);
  await ctx.categories.forSend(input.category);
  const role = 'role' in input.audience ? input.audience.role : undefined;
  const content = await renderFanOutContent(ctx, input);
  const recipientCount = await ctx.models.users.countDocuments(audienceFilter({ role }));
  const owner = randomUUID();
  const [created] = await ctx.models.broadcasts.insertMany([
    {
      senderId: sender.id,
      role,
      channels: input.channels,
      ...content,
      category: input.category,
      priority: input.priority ?? 'normal',
      metadata: input.metadata ?? {},
      correlationId,
      state: 'running',
      recipientCount,
      processedCount: 0,
      lastUserId: null,
      leaseUntil: new Date(ctx.now().getTime() + ctx.settings.outboxLeaseMs),
      leaseOwner: owner,
    },
  ]);
  const record = created!.toObject() as BroadcastRecord;
  ctx.background.run('broadcast fan-out', () => fanOut(ctx, record, owner));
  return broadcastProgress(record);
}

export async function getBroadcast(ctx: ServiceContext, id: string): Promise<BroadcastProgress> {
  const record = Types.ObjectId.isValid(id)
    ? await ctx.models.broadcasts.findById(id).lean<BroadcastRecord>()
    : null;
  if (!record) throw new NotFoundError('broadcast_not_found', 'No such broadcast');
  return broadcastProgress(record);
}

/**
 * The channels this user can be reached on: email only at a verified
 * address, SMS only at a verified number the SMS allow-list admits (an
 * address is the user's only once they verified it).
 */
function reachableChannels(
  ctx: ServiceContext,
  channels: Channel[],
  user: UserRecord,
  pushable: ReadonlySet<string>,
): Channel[] {
  return channels.filter((channel) => {
    if (channel === 'email') return user.emailVerified;
    if (channel === 'push') return pushable.has(user._id);
    if (channel === 'sms') {
      return (
        Boolean(user.phone) &&
        user.phoneVerified === true &&
        smsDestinationVerdict(user.phone!, ctx.settings.smsAllowList) === 'allowed'
      );
    }
    return true;
  });
}

async function fanOut(ctx: ServiceContext, broadcast: BroadcastRecord, owner: string): Promise<void> {
  const broadcastId = broadcast._id.toHexString();
  let lastUserId = broadcast.lastUserId;
  for (;;) {
    const users = await ctx.models.users
      .find({ ...audienceFilter(broadcast), ...(lastUserId ? { _id: { $gt: lastUserId } } : {}) })
      .sort({ _id: 1 })
      .limit(ctx.settings.broadcastBatchSize)
      .lean<UserRecord[]>();
    if (users.length === 0) break;
    await deliverBatch(ctx, broadcast, broadcastId, users);
    lastUserId = users[users.length - 1]!._id;
    const kept = await ctx.models.broadcasts.updateOne(
      { _id: broadcast._id, leaseOwner: owner },
      {
        $set: { lastUserId, leaseUntil: new Date(ctx.now().getTime() + ctx.settings.outboxLeaseMs) },
        $inc: { processedCount: users.length },
      },
    );
    // Our lease lapsed and another instance resumed the broadcast: it carries on from the checkpoint.
    if (kept.matchedCount === 0) return;
  }
  await ctx.models.broadcasts.updateOne(
    { _id: broadcast._id, leaseOwner: owner },
    { $set: { state: 'completed', completedAt: ctx.now(), leaseUntil: null } },
  );
  ctx.log.info({ broadcastId }, 'broadcast fanned out');
}

async function deliverBatch(
  ctx: ServiceContext,
  broadcast: BroadcastRecord,
  broadcastId: string,
  users: UserRecord[],
) {
  // push only to users with a browser subscribed: one read per batch
  const pushable = broadcast.channels.includes('push')
    ? await ownersWithPushSubscriptions(
        ctx,
        users.map((user) => user._id),
      )
    : new Set<string>();
  const drafts = users.flatMap((user) => {
    const channels = reachableChannels(ctx, broadcast.channels, user, pushable);
    if (channels.length === 0) return [];
    return [
      {
        dedupeKey: `broadcast:${broadcastId}:${user._id}`,
        recipient: {
          userId: user._id,
          email: user.email,
          name: user.name,
          ...(user.phone ? { phone: user.phone } : {}),
          ...(user.locale ? { locale: user.locale } : {}),
        },
        senderId: broadcast.senderId,
        channels,
        ...recipientContent(broadcast, user.locale, channels),
        category: broadcast.category,
        priority: broadcast.priority,
        metadata: broadcast.metadata,
        broadcastId,
        correlationId: broadcast.correlationId,
      },
    ];
  });
  const inserted = await storeNotificationBatch(ctx, drafts);
  await publishBatchNow(ctx, inserted);
}

/** Relay pass: resumes broadcasts whose instance stopped before finishing. */
export async function resumeBroadcasts(ctx: ServiceContext): Promise<void> {
  for (;;) {
    const now = ctx.now();
    const owner = randomUUID();
    const claimed = await ctx.models.broadcasts
      .findOneAndUpdate(
        { state: 'running', leaseUntil: { $lte: now } },
        { $set: { leaseUntil: new Date(now.getTime() + ctx.settings.outboxLeaseMs), leaseOwner: owner } },
        { returnDocument: 'after' },
      )
      .lean<BroadcastRecord>();
    if (!claimed) return;
    ctx.log.warn({ broadcastId: claimed._id }, 'resuming an unfinished broadcast');
    await fanOut(ctx, claimed, owner);
  }
}
