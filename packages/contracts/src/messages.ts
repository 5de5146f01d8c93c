import { type Static, type TSchema } from '@sinclair/typebox';
import {
  PasswordResetRequestedMessage,
  PhoneVerificationRequestedMessage,
  RegistrationAttemptedMessage,
} from './account-messages';
import {
  ApiKeyUpsertedMessage,
  SubscriberDeletedMessage,
  SubscriberUpsertedMessage,
} from './application-messages';
import {
  DeliveryJobMessage,
  DeliveryStatusMessage,
  PushSubscriptionGoneMessage,
  type DeliveryJobPayload,
} from './delivery-messages';
import { createEnvelope, type EnvelopeOptions } from './envelope';
import { MessageTypes, MessageVersions, type MessageType } from './message-types';
import { EventRoutingKeys, type EventRoutingKey } from './names';
import {
  NotificationCreatedMessage,
  NotificationUpdatedMessage,
  NotificationsCreatedMessage,
} from './notification-messages';
import { NotificationStatusMessage } from './sender-messages';
import {
  TemplateChangedMessage,
  WorkflowRunChangedMessage,
  WorkflowSendMessage,
  WorkflowStepRefusedMessage,
} from './workflow-messages';
import { TopicDeletedMessage, TopicMembersChangedMessage, TopicUpsertedMessage } from './topic-messages';
import { UserRegisteredMessage, UserUpdatedMessage, VerificationRequestedMessage } from './user-messages';

/** The schema of every message Herald publishes, by type: a consumer picks the schema from the envelope's `type`. */
export const MessageSchemas = {
  [MessageTypes.deliveryJob]: DeliveryJobMessage,
  [MessageTypes.deliveryStatus]: DeliveryStatusMessage,
  [MessageTypes.notificationCreated]: NotificationCreatedMessage,
  [MessageTypes.notificationsCreated]: NotificationsCreatedMessage,
  [MessageTypes.notificationUpdated]: NotificationUpdatedMessage,
  [MessageTypes.userRegistered]: UserRegisteredMessage,
  [MessageTypes.userUpdated]: UserUpdatedMessage,
  [MessageTypes.userVerificationRequested]: VerificationRequestedMessage,
  [MessageTypes.userRegistrationAttempted]: RegistrationAttemptedMessage,
  [MessageTypes.userPasswordResetRequested]: PasswordResetRequestedMessage,
  [MessageTypes.userPhoneVerificationRequested]: PhoneVerificationRequestedMessage,
  [MessageTypes.apiKeyUpserted]: ApiKeyUpsertedMessage,
  [MessageTypes.subscriberUpserted]: SubscriberUpsertedMessage,
  [MessageTypes.subscriberDeleted]: SubscriberDeletedMessage,
  [MessageTypes.pushSubscriptionGone]: PushSubscriptionGoneMessage,
  [MessageTypes.notificationStatus]: NotificationStatusMessage,
  [MessageTypes.workflowSend]: WorkflowSendMessage,
  [MessageTypes.templateChanged]: TemplateChangedMessage,
  [MessageTypes.workflowRunChanged]: WorkflowRunChangedMessage,
  [MessageTypes.workflowStepRefused]: WorkflowStepRefusedMessage,
  [MessageTypes.topicUpserted]: TopicUpsertedMessage,
  [MessageTypes.topicDeleted]: TopicDeletedMessage,
  [MessageTypes.topicMembersChanged]: TopicMembersChangedMessage,
} as const satisfies Record<MessageType, TSchema>;

export type MessageOf<T extends MessageType> = Static<(typeof MessageSchemas)[T]>;
export type PayloadOf<T extends MessageType> = MessageOf<T>['payload'];
export type AnyMessage = { [T in MessageType]: MessageOf<T> }[MessageType];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && Object.hasOwn(MessageSchemas, value);
}

/** Messages published on the events exchange; `delivery.job` goes to the work exchange, routed by channel. */
export type EventMessageType = Exclude<MessageType, typeof MessageTypes.deliveryJob>;

export const EventRoutingKeyByMessageType: Record<EventMessageType, EventRoutingKey> = {
  [MessageTypes.deliveryStatus]: EventRoutingKeys.deliveryStatus,
  [MessageTypes.notificationCreated]: EventRoutingKeys.notificationCreated,
  [MessageTypes.notificationsCreated]: EventRoutingKeys.notificationsCreated,
  [MessageTypes.notificationUpdated]: EventRoutingKeys.notificationUpdated,
  [MessageTypes.userRegistered]: EventRoutingKeys.userRegistered,
  [MessageTypes.userUpdated]: EventRoutingKeys.userUpdated,
  [MessageTypes.userVerificationRequested]: EventRoutingKeys.userVerificationRequested,
  [MessageTypes.userRegistrationAttempted]: EventRoutingKeys.userRegistrationAttempted,
  [MessageTypes.userPasswordResetRequested]: EventRoutingKeys.userPasswordResetRequested,
  [MessageTypes.userPhoneVerificationRequested]: EventRoutingKeys.userPhoneVerificationRequested,
  [MessageTypes.apiKeyUpserted]: EventRoutingKeys.apiKeyUpserted,
  [MessageTypes.subscriberUpserted]: EventRoutingKeys.subscriberUpserted,
  [MessageTypes.subscriberDeleted]: EventRoutingKeys.subscriberDeleted,
  [MessageTypes.pushSubscriptionGone]: EventRoutingKeys.pushSubscriptionGone,
  [MessageTypes.notificationStatus]: EventRoutingKeys.notificationStatus,
  [MessageTypes.workflowSend]: EventRoutingKeys.workflowSend,
  [MessageTypes.templateChanged]: EventRoutingKeys.templateChanged,
  [MessageTypes.workflowRunChanged]: EventRoutingKeys.workflowRunChanged,
  [MessageTypes.workflowStepRefused]: EventRoutingKeys.workflowStepRefused,
  [MessageTypes.topicUpserted]: EventRoutingKeys.topicUpserted,
  [MessageTypes.topicDeleted]: EventRoutingKeys.topicDeleted,
  [MessageTypes.topicMembersChanged]: EventRoutingKeys.topicMembersChanged,
};

/** An envelope at the version producers write today, its payload checked against that version by the compiler. */
export function createMessage<T extends MessageType>(
  type: T,
  payload: PayloadOf<T>,
  options: EnvelopeOptions,
): MessageOf<T> {
  // The cast only joins the envelope's generic shape to the schema's Static type; both describe the same object.
  return createEnvelope(type, MessageVersions[type], payload, options) as MessageOf<T>;
}

/** A delivery job whose message id is its job id, so every republish of the job is recognisably the same message. */
export function createDeliveryJobMessage(
  payload: DeliveryJobPayload,
  options: Omit<EnvelopeOptions, 'messageId'>,
): MessageOf<typeof MessageTypes.deliveryJob> {
  return createMessage(MessageTypes.deliveryJob, payload, { ...options, messageId: payload.jobId });
}
