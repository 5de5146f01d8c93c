import { createMessage, EventRoutingKeys, MessageTypes } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { type Harness } from './harness';

/** Auth's topic events as the notification service receives them; each waits until the read model has it. */
export function topicEvents(harness: Harness) {
  const { models } = harness;
  return {
    async upserted(key: string, revision: number, name = key) {
      const at = new Date().toISOString();
      await harness.publishEvent(
        EventRoutingKeys.topicUpserted,
        createMessage(
          MessageTypes.topicUpserted,
          { key, name, createdAt: at, updatedAt: at, revision },
          { correlationId: 'test' },
        ),
      );
      await waitFor(() => models.topics.exists({ _id: key, revision: { $gte: revision } }), {
        description: `topic ${key} revision ${revision}`,
      });
    },

    async deleted(key: string, revision: number) {
      await harness.publishEvent(
        EventRoutingKeys.topicDeleted,
        createMessage(
          MessageTypes.topicDeleted,
          { key, deletedAt: new Date().toISOString(), revision },
          { correlationId: 'test' },
        ),
      );
      // the topic is marked first, then its memberships go: both
      await waitFor(
        async () =>
          Boolean(await models.topics.exists({ _id: key, revision: { $gte: revision } })) &&
          !(await models.topicMembers.exists({ topic: key, revision: { $lt: revision } })),
        { description: `topic ${key} deleted at ${revision}, its memberships gone` },
      );
    },

    /** Publishes without waiting: many at once, then `settled`. */
    async membersChanged(key: string, revision: number, change: { added?: string[]; removed?: string[] }) {
      await harness.publishEvent(
        EventRoutingKeys.topicMembersChanged,
        createMessage(
          MessageTypes.topicMembersChanged,
          { key, revision, added: change.added ?? [], removed: change.removed ?? [] },
          { correlationId: 'test' },
        ),
      );
    },

    /** Waits until the read model holds `count` rows of the topic at `revision` or newer. */
    async settled(key: string, revision: number, count: number) {
      await waitFor(
        async () =>
          (await models.topicMembers.countDocuments({ topic: key, revision: { $gte: revision } })) >= count,
        { description: `${count} members of ${key} at revision ${revision}`, timeoutMs: 60_000 },
      );
    },

    /** A new topic (revision 1) whose members (revision 2) are these subscribers; waits for all of it. */
    async created(key: string, externalIds: string[]) {
      await this.upserted(key, 1);
      await this.membersChanged(key, 2, { added: externalIds });
      await this.settled(key, 2, externalIds.length);
    },
  };
}
