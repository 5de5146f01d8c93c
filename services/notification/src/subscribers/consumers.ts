import { type SubscriberDeletedMessage, type SubscriberUpsertedMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applySubscriberDeleted, applySubscriberSnapshot } from './domain/subscribers';

/** Auth's `subscriber.upserted`: the read model the sends resolve `recipient.subscriberId` in. */
export function onSubscriberUpserted(ctx: ServiceContext, message: SubscriberUpsertedMessage) {
  return applySubscriberSnapshot(ctx, message.payload);
}

/** Auth's `subscriber.deleted`: personal data erased here too (see applySubscriberDeleted). */
export function onSubscriberDeleted(ctx: ServiceContext, message: SubscriberDeletedMessage) {
  return applySubscriberDeleted(ctx, message.payload);
}
