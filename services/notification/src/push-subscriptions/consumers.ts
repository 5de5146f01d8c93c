import { type PushSubscriptionGoneMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { removeGoneSubscription } from './domain/push-subscriptions';

/** The worker's `push.subscription_gone`, validated by the queue's consumer. */
export async function onPushSubscriptionGone(
  ctx: ServiceContext,
  message: PushSubscriptionGoneMessage,
): Promise<void> {
  await removeGoneSubscription(ctx, message.payload);
}
