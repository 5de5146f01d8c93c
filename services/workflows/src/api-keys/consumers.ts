import { type ApiKeyUpsertedMessage } from '@herald/contracts';
import { applyApiKeySnapshot } from '@herald/read-models';
import { type ServiceContext } from '../kernel/context';

/**
 * Auth's `apikey.upserted` (created, rotated, revoked): the read model
 * (`@herald/read-models`) takes it, so an application's key triggers
 * workflows here as it sends notifications there; this instance forgets its
 * cached copy at once.
 */
export async function onApiKeyUpserted(ctx: ServiceContext, message: ApiKeyUpsertedMessage): Promise<void> {
  await applyApiKeySnapshot(ctx.models.apiKeys, message.payload);
  ctx.apiKeys.invalidate(message.payload.keyId);
}
