import { type ApiKeyUpsertedMessage } from '@herald/contracts';
import { type ServiceContext } from '../kernel/context';
import { applyApiKeySnapshot } from './domain/api-keys';

/**
 * Auth's `apikey.upserted` (created, rotated, revoked): the read model takes
 * it, and this instance forgets its cached copy at once; other instances
 * read the new copy when theirs expires (≤ 2 s).
 */
export async function onApiKeyUpserted(ctx: ServiceContext, message: ApiKeyUpsertedMessage) {
  await applyApiKeySnapshot(ctx, message.payload);
  ctx.apiKeys.invalidate(message.payload.keyId);
}
