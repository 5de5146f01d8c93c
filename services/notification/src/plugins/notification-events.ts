import { Type } from '@sinclair/typebox';
import {
  ApiKeyUpsertedMessage,
  DeliveryStatusMessage,
  MessageTypes,
  PasswordResetRequestedMessage,
  PhoneVerificationRequestedMessage,
  PushSubscriptionGoneMessage,
  RegistrationAttemptedMessage,
  SubscriberDeletedMessage,
  SubscriberUpsertedMessage,
  TopicDeletedMessage,
  TopicMembersChangedMessage,
  TopicUpsertedMessage,
  UserRegisteredMessage,
  UserUpdatedMessage,
  VerificationRequestedMessage,
  WorkflowRunChangedMessage,
  WorkflowSendMessage,
} from '@herald/contracts';
import { onApiKeyUpserted } from '../api-keys/consumers';
import { onDeliveryStatus } from '../delivery-status/consumers';
import { onWorkflowRunChanged } from '../event-webhooks/consumers';
import { type ServiceContext } from '../kernel/context';
import { onPushSubscriptionGone } from '../push-subscriptions/consumers';
import { onSubscriberDeleted, onSubscriberUpserted } from '../subscribers/consumers';
import { onTopicDeleted, onTopicMembersChanged, onTopicUpserted } from '../topics/consumers';
import {
  onPasswordResetRequested,
  onPhoneVerificationRequested,
  onRegistrationAttempted,
  onUserSnapshot,
  onVerificationRequested,
} from '../users/consumers';
import { onWorkflowSend } from '../workflow-sends/consumers';

/** Every message type this queue carries; anything else is dead-lettered unseen by the consumer. */
export const NotificationEventsMessage = Type.Union([
  DeliveryStatusMessage,
  UserRegisteredMessage,
  UserUpdatedMessage,
  VerificationRequestedMessage,
  PasswordResetRequestedMessage,
  PhoneVerificationRequestedMessage,
  RegistrationAttemptedMessage,
  ApiKeyUpsertedMessage,
  SubscriberUpsertedMessage,
  SubscriberDeletedMessage,
  PushSubscriptionGoneMessage,
  WorkflowSendMessage,
  WorkflowRunChangedMessage,
  TopicUpsertedMessage,
  TopicDeletedMessage,
  TopicMembersChangedMessage,
]);

/**
 * The service's one inbound queue: delivery status from the worker and user,
 * API key, subscriber and topic events from auth, the workflows service's sends and run changes, handed to the feature each belongs to. A quorum queue
 * shared by all instances (competing consumers). Not declared here: the
 * shared topology (`@herald/amqp`) declares it, with its bindings and the
 * delivery limit, from every service, so the arguments can never disagree.
 */
export function startNotificationEventsConsumer(ctx: ServiceContext) {
  return ctx.amqp.consume({
    queue: ctx.amqp.names.queues.notificationEvents,
    schema: NotificationEventsMessage,
    prefetch: ctx.settings.prefetch,
    handler: async (message) => {
      switch (message.type) {
        case MessageTypes.deliveryStatus:
          return onDeliveryStatus(ctx, message);
        case MessageTypes.userRegistered:
        case MessageTypes.userUpdated:
          return onUserSnapshot(ctx, message);
        case MessageTypes.userVerificationRequested:
          return onVerificationRequested(ctx, message);
        case MessageTypes.userPasswordResetRequested:
          return onPasswordResetRequested(ctx, message);
        case MessageTypes.userPhoneVerificationRequested:
          return onPhoneVerificationRequested(ctx, message);
        case MessageTypes.userRegistrationAttempted:
          return onRegistrationAttempted(ctx, message);
        case MessageTypes.apiKeyUpserted:
          return onApiKeyUpserted(ctx, message);
        case MessageTypes.subscriberUpserted:
          return onSubscriberUpserted(ctx, message);
        case MessageTypes.subscriberDeleted:
          return onSubscriberDeleted(ctx, message);
        case MessageTypes.pushSubscriptionGone:
          return onPushSubscriptionGone(ctx, message);
        case MessageTypes.workflowSend:
          return onWorkflowSend(ctx, message);
        case MessageTypes.workflowRunChanged:
          return onWorkflowRunChanged(ctx, message);
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
