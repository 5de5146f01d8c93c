import { type ApiKeyUpsertedMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applyApiKeySnapshot } from './domain/api-keys';

/** Auth's `apikey.upserted` (created, rotated, revoked): the read model takes it. */
export function onApiKeyUpserted(ctx: ServiceContext, message: ApiKeyUpsertedMessage): Promise<void> {
  return applyApiKeySnapshot(ctx, message.payload);
}
