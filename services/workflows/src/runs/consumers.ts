import {
  type NotificationCreatedMessage,
  type NotificationUpdatedMessage,
  type WorkflowStepRefusedMessage,
} from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { recordEngagement } from './domain/engagement';
import { recordRefusal } from './domain/refusals';

/** An in-app notification reached its inbox: delivered. */
export function onNotificationCreated(
  ctx: ServiceContext,
  message: NotificationCreatedMessage,
): Promise<void> {
  const { notification } = message.payload;
  return recordEngagement(ctx, notification.id, 'delivered', new Date(notification.createdAt));
}

/** Read (not unread), a delivery status of delivered, an email opened or clicked (seen). */
export async function onNotificationUpdated(
  ctx: ServiceContext,
  message: NotificationUpdatedMessage,
): Promise<void> {
  const { notificationId, change } = message.payload;
  const at = new Date(change.at);
  if (change.kind === 'read' && change.read) return recordEngagement(ctx, notificationId, 'read', at);
  if (change.kind === 'status' && change.status === 'delivered') {
    return recordEngagement(ctx, notificationId, 'delivered', at);
  }
  if (change.kind === 'engagement' && (change.engagement === 'opened' || change.engagement === 'clicked')) {
    return recordEngagement(ctx, notificationId, 'seen', at);
  }
}

/** The notification service refused a run's step for good: the run ends `failed` with the reason. */
export function onStepRefused(ctx: ServiceContext, message: WorkflowStepRefusedMessage): Promise<void> {
  return recordRefusal(ctx, message.payload);
}
