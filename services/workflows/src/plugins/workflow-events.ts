import { Type } from '@sinclair/typebox';
import {
  ApiKeyUpsertedMessage,
  MessageTypes,
  NotificationCreatedMessage,
  NotificationUpdatedMessage,
  TemplateChangedMessage,
  TopicDeletedMessage,
  TopicMembersChangedMessage,
  TopicUpsertedMessage,
  WorkflowStepRefusedMessage,
} from '@herald/contracts';
import { onApiKeyUpserted } from '../api-keys/consumers';
import { type ServiceContext } from '../kernel/context';
import { onNotificationCreated, onNotificationUpdated, onStepRefused } from '../runs/consumers';
import { onTemplateChanged } from '../templates/consumers';
import { onTopicDeleted, onTopicMembersChanged, onTopicUpserted } from '../topics/consumers';

/** Every message type this queue carries; anything else is dead-lettered unseen. */
export const WorkflowEventsMessage = Type.Union([
  NotificationCreatedMessage,
  NotificationUpdatedMessage,
  WorkflowStepRefusedMessage,
  TemplateChangedMessage,
  ApiKeyUpsertedMessage,
  TopicUpsertedMessage,
  TopicDeletedMessage,
  TopicMembersChangedMessage,
]);

/**
 * The service's one inbound queue (declared with the shared topology):
 * what became of the runs' notifications, the steps the notification service
 * refused, the notification service's
 * templates, auth's API keys. A quorum queue shared by all instances.
 */
export function startWorkflowEventsConsumer(ctx: ServiceContext) {
  return ctx.amqp.consume({
    queue: ctx.amqp.names.durableQueues.workflowEvents,
    schema: WorkflowEventsMessage,
    prefetch: ctx.settings.prefetch,
    handler: async (message) => {
      switch (message.type) {
        case MessageTypes.notificationCreated:
          return onNotificationCreated(ctx, message);
        case MessageTypes.notificationUpdated:
          return onNotificationUpdated(ctx, message);
        case MessageTypes.workflowStepRefused:
          return onStepRefused(ctx, message);
        case MessageTypes.templateChanged:
          return onTemplateChanged(ctx, message);
        case MessageTypes.apiKeyUpserted:
          return onApiKeyUpserted(ctx, message);
        case MessageTypes.topicUpserted:
          return onTopicUpserted(ctx, message);
        case MessageTypes.topicDeleted:
          return onTopicDeleted(ctx, message);
        case MessageTypes.topicMembersChanged:
          return onTopicMembersChanged(ctx, message);
      }
    },
  });
}
