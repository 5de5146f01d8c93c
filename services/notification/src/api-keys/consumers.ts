import { type ApiKeyUpsertedMessage } from '@herald/contracts';
import { applyApiKeySnapshot } from '@herald/read-models';
import { type ServiceContext } from '../kernel/context';

/**
 * Auth's `apikey.upserted` (created, rotated, revoked): the read model
 * (`@herald/read-models`) takes it, and this instance forgets its cached copy
 * at once; other instances read the new copy when theirs expires (≤ 2 s).
 */
export async function onApiKeyUpserted(ctx: ServiceContext, message: ApiKeyUpsertedMessage) {
  const { keyId, revision } = message.payload;
  if (!(await applyApiKeySnapshot(ctx.models.apiKeys, message.payload))) {
    ctx.log.info({ keyId, revision }, 'older API key snapshot ignored');
  }
  ctx.apiKeys.invalidate(keyId);
}
