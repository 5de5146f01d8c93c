import {
  type TopicDeletedMessage,
  type TopicMembersChangedMessage,
  type TopicUpsertedMessage,
} from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applyMembersChanged, applyTopicDeleted, applyTopicSnapshot } from '@herald/read-models';

/** Auth's `topic.upserted`: the topic read model sends to a topic check. */
export function onTopicUpserted(ctx: ServiceContext, message: TopicUpsertedMessage) {
  return applyTopicSnapshot(ctx.models, message.payload);
}

/** Auth's `topic.deleted`: the topic and its memberships go. */
export function onTopicDeleted(ctx: ServiceContext, message: TopicDeletedMessage) {
  return applyTopicDeleted(ctx.models, message.payload);
}

/** Auth's `topic.members_changed`: the membership read model the fan-out walks. */
export function onTopicMembersChanged(ctx: ServiceContext, message: TopicMembersChangedMessage) {
  return applyMembersChanged(ctx.models, message.payload);
}
