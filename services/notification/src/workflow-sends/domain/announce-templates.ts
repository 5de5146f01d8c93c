import { Channels, EventRoutingKeys, MessageTypes, createMessage, type Channel } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { publishEvent } from '../../outbox/domain/publish-event';
import { type TemplateRecord } from '../../templates/data/models';

type Head = Pick<TemplateRecord, 'key' | 'version' | 'channels' | 'deletedAt'>;

/**
 * A relay pass: tells the workflows service (`template.changed`) of every
 * template whose version or deletion it has not been told of yet, and
 * records what it told once the broker confirmed it. Nothing is lost on a
 * broker outage or a crash: what was not confirmed differs on the next
 * pass and is published again (the consumer keeps the newest version).
 * Templates are few (an admin's list), so each pass compares them all.
 */
export async function announceTemplates(ctx: ServiceContext): Promise<number> {
  const heads = await ctx.templates.models.templates
    .find({}, { key: 1, version: 1, channels: 1, deletedAt: 1 })
    .lean<Head[]>();
  if (heads.length === 0) return 0;
  const told = await ctx.models.templateAnnouncements
    .find({}, { version: 1, deleted: 1 })
    .lean<{ _id: string; version: number; deleted: boolean }[]>();
  const known = new Map(told.map((one) => [one._id, one]));
  const changed = heads.filter((head) => {
    const previous = known.get(head.key);
    return !previous || previous.version !== head.version || previous.deleted !== (head.deletedAt !== null);
  });
  const at = ctx.now();
  // all published at once (confirms pipelined), then what was confirmed recorded in one write
  const results = await Promise.allSettled(
    changed.map(async (head) => {
      const deleted = head.deletedAt !== null;
      const channels = head.channels.filter((channel): channel is Channel =>
        (Channels as readonly string[]).includes(channel),
      );
      const message = createMessage(
        MessageTypes.templateChanged,
        { key: head.key, version: head.version, channels, deleted, at: at.toISOString() },
        { correlationId: `template:${head.key}:${head.version}` },
      );
      await publishEvent(ctx, EventRoutingKeys.templateChanged, message);
      return { key: head.key, version: head.version, deleted };
    }),
  );
  const confirmed = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  if (confirmed.length > 0) {
    await ctx.models.templateAnnouncements.bulkWrite(
      confirmed.map(({ key, version, deleted }) => ({
        updateOne: { filter: { _id: key }, update: { $set: { version, deleted, at } }, upsert: true },
      })),
    );
  }
  const failed = results.find((result) => result.status === 'rejected');
  // the next pass publishes what was not confirmed
  if (failed) throw failed.reason;
  const published = confirmed.length;
  return published;
}
