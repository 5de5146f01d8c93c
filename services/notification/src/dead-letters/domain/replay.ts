import { type ConsumeMessage } from 'amqplib';
import { type AmqpClient } from '@herald/amqp';
import { Headers, MessageTypes, isDeliveryChannel, workRoutingKeyFor, type Channel } from '@herald/contracts';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
  UnprocessableError,
  type Logger,
} from '@herald/runtime';
import { type DeadLetterModel, type DeadLetterRecord } from '../data/model';
import { contentBuffer } from './queries';
import { requeueChannel, restoreChannel, type ChannelRequeued } from './requeue-channel';
import { type NotificationModel } from '../../notifications/data/notification-model';

export interface ReplayDeps {
  deadLetters: DeadLetterModel;
  notifications: NotificationModel;
  amqp: AmqpClient;
  log: Logger;
  now: () => Date;
  /** a replay that crashed between its steps may be taken over after this long */
  replayLeaseMs: number;
  /** told once a channel went back to `queued`, e.g. to publish `notification.updated` */
  onChannelRequeued?: (change: ChannelRequeued) => Promise<void>;
}

/** Headers that describe past failures; a replay starts the message's life afresh. */
const FAILURE_HEADERS = new Set<string>([
  Headers.retryAttempts,
  Headers.delay,
  Headers.lastError,
  Headers.errorCode,
  Headers.firstFailedAt,
  Headers.deadLetteredAt,
  Headers.deadLetterReason,
  Headers.originalQueue,
  Headers.originalExchange,
  Headers.originalRoutingKey,
  'x-death',
  'x-first-death-reason',
  'x-first-death-queue',
  'x-first-death-exchange',
  'x-last-death-reason',
  'x-last-death-queue',
  'x-last-death-exchange',
  'x-delivery-count',
]);

/**
 * Sends a dead letter back where it failed, with its attempts reset, its
 * bytes and message id unchanged (the worker's idempotency key), and marks it
 * replayed. Steps, each safe to repeat after a crash:
 * 1. claim the record (`replaying`, with a lease): a second replay is a 409;
 * 2. move the notification's channel back to `queued` (before the publish, so
 *    the worker's first report cannot arrive while the channel is still `failed`);
 * 3. publish with a confirm; on failure undo 2 and release 1;
 * 4. mark the record `replayed` with the time and the admin.
 */
export async function replayDeadLetter(
  deps: ReplayDeps,
  id: string,
  adminId: string,
): Promise<DeadLetterRecord> {
  const startedAt = deps.now();
  const claimed = await deps.deadLetters
    .findOneAndUpdate(
      {
        _id: id,
        $or: [{ state: 'pending' }, { state: 'replaying', 'replay.leaseUntil': { $lt: startedAt } }],
      },
      {
        $set: {
          state: 'replaying',
          replay: { by: adminId, startedAt, leaseUntil: new Date(startedAt.getTime() + deps.replayLeaseMs) },
        },
      },
      { returnDocument: 'after', projection: { dedupeKey: 0 } },
    )
    .lean<DeadLetterRecord>();
  if (!claimed) throw await whyNotClaimed(deps.deadLetters, id);

  const log = deps.log.child({
    deadLetterId: id,
    messageId: claimed.messageId,
    correlationId: claimed.correlationId,
    adminId,
  });
  const release = () =>
    deps.deadLetters.updateOne(
      { _id: claimed._id, state: 'replaying', 'replay.startedAt': startedAt },
      { $set: { state: 'pending' }, $unset: { replay: 1 } },
    );

  const destination = replayDestination(claimed, deps.amqp);
  if (!destination) {
    await release();
    throw new UnprocessableError('not_replayable', 'Where this message came from is unknown');
  }

  const marker = `replay:${id}`;
  let requeued: ChannelRequeued | undefined;
  try {
    requeued = await requeueChannel(deps, claimed, { marker, adminId });
  } catch (error) {
    await release();
    throw error;
  }

  try {
    await deps.amqp.republish(
      destination.exchange,
      destination.routingKey,
      contentBuffer(claimed.content),
      replayProperties(claimed),
      replayHeaders(claimed, id),
    );
  } catch (error) {
    log.error({ err: error, ...destination }, 'replay publish failed; the dead letter stays pending');
    if (requeued?.applied) await restoreChannel(deps, requeued, marker);
    await release();
    throw new ServiceUnavailableError('replay_failed', 'The broker did not take the message; try again');
  }

  const replayed = await deps.deadLetters
    .findOneAndUpdate(
      { _id: claimed._id, state: 'replaying', 'replay.startedAt': startedAt },
      {
        $set: {
          state: 'replayed',
          'replay.at': deps.now(),
          'replay.exchange': destination.exchange,
          'replay.routingKey': destination.routingKey,
        },
      },
      { returnDocument: 'after', projection: { dedupeKey: 0 } },
    )
    .lean<DeadLetterRecord>();
  log.warn(
    { ...destination, notificationId: claimed.notificationId, channel: claimed.channel },
    'dead letter replayed',
  );
  if (requeued?.applied && deps.onChannelRequeued) {
    await deps
      .onChannelRequeued(requeued)
      .catch((error: unknown) => log.warn({ err: error }, 'could not announce the requeued channel'));
  }
  // Only a takeover after our lease ran out could have changed it; the message went out either way.
  return replayed ?? { ...claimed, state: 'replayed' };
}

async function whyNotClaimed(deadLetters: DeadLetterModel, id: string): Promise<Error> {
  const existing = await deadLetters.findById(id, { state: 1 }).lean<Pick<DeadLetterRecord, 'state'>>();
  if (!existing) return new NotFoundError('dead_letter_not_found', 'No such dead letter');
  if (existing.state === 'replayed')
    return new ConflictError('already_replayed', 'This dead letter was already replayed');
  return new ConflictError('replay_in_progress', 'This dead letter is being replayed');
}

/**
 * A delivery job goes back through the work exchange by its channel, as the
 * notification service first published it. Anything else goes straight back
 * into the queue it failed in (the default exchange routes by queue name),
 * so a fanned-out event is retried only by the consumer that failed it.
 */
function replayDestination(
  record: DeadLetterRecord,
  amqp: AmqpClient,
): { exchange: string; routingKey: string } | undefined {
  const channel = record.channel as Channel | null;
  if (record.messageType === MessageTypes.deliveryJob && channel && isDeliveryChannel(channel)) {
    return { exchange: amqp.names.exchanges.work, routingKey: workRoutingKeyFor(channel) };
  }
  if (record.originalQueue) return { exchange: '', routingKey: record.originalQueue };
  if (record.originalExchange !== null && record.originalRoutingKey !== null) {
    return { exchange: record.originalExchange, routingKey: record.originalRoutingKey };
  }
  return undefined;
}

function replayHeaders(record: DeadLetterRecord, id: string): Record<string, unknown> {
  const kept = record.headers.filter((header) => !FAILURE_HEADERS.has(header.name));
  return { ...Object.fromEntries(kept.map((header) => [header.name, header.value])), 'x-replay-of': id };
}

function replayProperties(record: DeadLetterRecord): ConsumeMessage['properties'] {
  return {
    contentType: record.contentType ?? undefined,
    contentEncoding: undefined,
    headers: undefined,
    deliveryMode: undefined,
    priority: undefined,
    correlationId: record.correlationId ?? undefined,
    replyTo: undefined,
    expiration: undefined,
    messageId: record.messageId ?? undefined,
    timestamp: undefined,
    type: record.messageType ?? undefined,
    userId: undefined,
    appId: undefined,
    clusterId: undefined,
  };
}
