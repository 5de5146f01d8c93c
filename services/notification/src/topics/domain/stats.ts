import { type Channel } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { findVisibleTopicSend, topicSendProgress, type TopicSendAccepted } from './topic-send';

export interface ChannelStats {
  /** notifications with this channel */
  recipients: number;
  /** accepted by the provider: sent, delivered or bounced later */
  sent: number;
  delivered: number;
  bounced: number;
  /** failed for good, or dead after its retries */
  failed: number;
  /** on the suppression list: the provider was never called */
  suppressed: number;
  /** muted by the recipient's preferences */
  skipped: number;
  /** still queued, sending or retrying */
  pending: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  complained: number;
  rates: {
    /** delivered / sent */
    delivered: number;
    /** bounced / sent */
    bounced: number;
    /** opened / delivered */
    opened: number;
    /** clicked / delivered */
    clicked: number;
    /** unsubscribed / delivered */
    unsubscribed: number;
    /** complained / delivered */
    complained: number;
  };
}

export interface TopicSendStats extends TopicSendAccepted {
  /** members who got a notification (members with no reachable channel get none) */
  notified: number;
  channels: Partial<Record<Channel, ChannelStats>>;
}

const ratio = (part: number, whole: number) =>
  whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;

/**
 * A send's numbers, counted when asked (not kept as counters): each figure
 * is a count over the send's notifications on the `broadcastId` index, so it
 * can never drift from the delivery records, whatever order the status
 * events and webhooks arrive in or how often they are redelivered. A few
 * index-narrowed counts per channel; for a very large campaign this trades
 * read cost on each GET for no write cost per status event.
 */
export async function topicSendStats(
  ctx: ServiceContext,
  caller: AuthenticatedUser,
  id: string,
): Promise<TopicSendStats> {
  const send = await findVisibleTopicSend(ctx, caller, id);
  const sendId = send._id.toHexString();
  const count = (filter: Record<string, unknown>) =>
    ctx.models.notifications.countDocuments({ broadcastId: sendId, ...filter });
  const channels: Partial<Record<Channel, ChannelStats>> = {};
  const [notified] = await Promise.all([count({})]);
  for (const channel of send.channels) {
    const status = `deliveries.${channel}.status`;
    const [recipients, sent, delivered, bounced, failed, suppressed, skipped, pending] = await Promise.all([
      count({ channels: channel }),
      count({ [status]: { $in: ['sent', 'delivered', 'bounced'] } }),
      count({ [status]: 'delivered' }),
      count({ [status]: 'bounced' }),
      count({ [status]: { $in: ['failed', 'dead'] } }),
      count({ [status]: 'suppressed' }),
      count({ [status]: 'skipped' }),
      count({ [status]: { $in: ['queued', 'sending', 'retrying'] } }),
    ]);
    const engaged =
      channel === 'in_app'
        ? [0, 0, 0, 0]
        : await Promise.all(
            ['openedAt', 'clickedAt', 'unsubscribedAt', 'complainedAt'].map((field) =>
              count({ channels: channel, [`engagement.${field}`]: { $exists: true } }),
            ),
          );
    const [opened, clicked, unsubscribed, complained] = engaged as [number, number, number, number];
    channels[channel] = {
      recipients,
      sent,
      delivered,
      bounced,
      failed,
      suppressed,
      skipped,
      pending,
      opened,
      clicked,
      unsubscribed,
      complained,
      rates: {
        delivered: ratio(delivered, sent),
        bounced: ratio(bounced, sent),
        opened: ratio(opened, delivered),
        clicked: ratio(clicked, delivered),
        unsubscribed: ratio(unsubscribed, delivered),
        complained: ratio(complained, delivered),
      },
    };
  }
  return { ...topicSendProgress(send), notified, channels };
}
