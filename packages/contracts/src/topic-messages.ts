import { Type, type Static } from '@sinclair/typebox';
import { SubscriberExternalId } from './application-messages';
import { Envelope } from './envelope';
import { MessageTypes, MessageVersions } from './message-types';
import { DateTime } from './primitives';

/*
 * Topics (issue #24): named lists of subscribers, owned by auth (the
 * directory). Auth tells the notification service about them with these
 * events; it keeps a membership read model to fan a send to a topic out.
 * Every event carries the topic's `revision` at the change, so a read model
 * applies a change to a member only over an older one it holds, and ignores
 * changes older than the topic's deletion.
 */

/** A topic's key, chosen by the application: 1–64 of `[A-Za-z0-9._:-]`. Never reused for another meaning. */
export const TopicKey = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,64}$' });

/** The most members one `topic.members_changed` names (a call of 10,000 is split into events of this size). */
export const MAX_MEMBERS_PER_EVENT = 1_000;

export const TopicSnapshot = Type.Object({
  key: TopicKey,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  createdAt: DateTime,
  updatedAt: DateTime,
  revision: Type.Integer({ minimum: 1 }),
});
export type TopicSnapshot = Static<typeof TopicSnapshot>;

export const TopicUpsertedMessage = Envelope(
  MessageTypes.topicUpserted,
  MessageVersions[MessageTypes.topicUpserted],
  TopicSnapshot,
);
export type TopicUpsertedMessage = Static<typeof TopicUpsertedMessage>;

/** The topic and all its memberships are gone; changes with a revision up to this one are void. */
export const TopicDeletedPayload = Type.Object({
  key: TopicKey,
  deletedAt: DateTime,
  revision: Type.Integer({ minimum: 1 }),
});
export type TopicDeletedPayload = Static<typeof TopicDeletedPayload>;

export const TopicDeletedMessage = Envelope(
  MessageTypes.topicDeleted,
  MessageVersions[MessageTypes.topicDeleted],
  TopicDeletedPayload,
);
export type TopicDeletedMessage = Static<typeof TopicDeletedMessage>;

/**
 * Members added to or removed from a topic at `revision`: a member's state
 * is what the newest revision naming it says. One call's members are split
 * into events of at most `MAX_MEMBERS_PER_EVENT`, all at the same revision.
 */
export const TopicMembersChangedPayload = Type.Object({
  key: TopicKey,
  revision: Type.Integer({ minimum: 1 }),
  added: Type.Array(SubscriberExternalId, { maxItems: MAX_MEMBERS_PER_EVENT }),
  removed: Type.Array(SubscriberExternalId, { maxItems: MAX_MEMBERS_PER_EVENT }),
});
export type TopicMembersChangedPayload = Static<typeof TopicMembersChangedPayload>;

export const TopicMembersChangedMessage = Envelope(
  MessageTypes.topicMembersChanged,
  MessageVersions[MessageTypes.topicMembersChanged],
  TopicMembersChangedPayload,
);
export type TopicMembersChangedMessage = Static<typeof TopicMembersChangedMessage>;
