import { EventRoutingKeys } from './names';

/**
 * Message type names. An event's type is also its routing key on the events
 * exchange, so the names come from names.ts and can never differ.
 */
export const MessageTypes = {
  deliveryJob: 'delivery.job',
  deliveryStatus: EventRoutingKeys.deliveryStatus,
  notificationCreated: EventRoutingKeys.notificationCreated,
  notificationsCreated: EventRoutingKeys.notificationsCreated,
  notificationUpdated: EventRoutingKeys.notificationUpdated,
  userRegistered: EventRoutingKeys.userRegistered,
  userUpdated: EventRoutingKeys.userUpdated,
  userVerificationRequested: EventRoutingKeys.userVerificationRequested,
  userRegistrationAttempted: EventRoutingKeys.userRegistrationAttempted,
  userPasswordResetRequested: EventRoutingKeys.userPasswordResetRequested,
  userPhoneVerificationRequested: EventRoutingKeys.userPhoneVerificationRequested,
  apiKeyUpserted: EventRoutingKeys.apiKeyUpserted,
  subscriberUpserted: EventRoutingKeys.subscriberUpserted,
  subscriberDeleted: EventRoutingKeys.subscriberDeleted,
  pushSubscriptionGone: EventRoutingKeys.pushSubscriptionGone,
  notificationStatus: EventRoutingKeys.notificationStatus,
  workflowSend: EventRoutingKeys.workflowSend,
  templateChanged: EventRoutingKeys.templateChanged,
  workflowRunChanged: EventRoutingKeys.workflowRunChanged,
  workflowStepRefused: EventRoutingKeys.workflowStepRefused,
  topicUpserted: EventRoutingKeys.topicUpserted,
  topicDeleted: EventRoutingKeys.topicDeleted,
  topicMembersChanged: EventRoutingKeys.topicMembersChanged,
} as const;
export type MessageType = (typeof MessageTypes)[keyof typeof MessageTypes];

/**
 * The version each producer writes today. A breaking change to a payload is
 * a new version with its own schema, published alongside the old one until
 * every consumer reads it.
 */
export const MessageVersions = {
  [MessageTypes.deliveryJob]: 1,
  [MessageTypes.deliveryStatus]: 1,
  [MessageTypes.notificationCreated]: 1,
  [MessageTypes.notificationsCreated]: 1,
  [MessageTypes.notificationUpdated]: 1,
  [MessageTypes.userRegistered]: 1,
  [MessageTypes.userUpdated]: 1,
  [MessageTypes.userVerificationRequested]: 1,
  [MessageTypes.userRegistrationAttempted]: 1,
  [MessageTypes.userPasswordResetRequested]: 1,
  [MessageTypes.userPhoneVerificationRequested]: 1,
  [MessageTypes.apiKeyUpserted]: 1,
  [MessageTypes.subscriberUpserted]: 1,
  [MessageTypes.subscriberDeleted]: 1,
  [MessageTypes.pushSubscriptionGone]: 1,
  [MessageTypes.notificationStatus]: 1,
  [MessageTypes.workflowSend]: 1,
  [MessageTypes.templateChanged]: 1,
  [MessageTypes.workflowRunChanged]: 1,
  [MessageTypes.workflowStepRefused]: 1,
  [MessageTypes.topicUpserted]: 1,
  [MessageTypes.topicDeleted]: 1,
  [MessageTypes.topicMembersChanged]: 1,
} as const satisfies Record<MessageType, number>;
