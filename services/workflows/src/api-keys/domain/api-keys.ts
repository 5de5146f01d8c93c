import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type ApiKeySnapshot } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';

const optionalDates = ['previousSecretExpiresAt', 'expiresAt', 'revokedAt'] as const;

/**
 * Replaces this service's copy of a key with auth's snapshot unless the copy
 * held is as new or newer (`revision`): the filter matches only an older
 * copy; for a newer one the upsert meets the _id, and that means "keep ours".
 */
export async function applyApiKeySnapshot(ctx: ServiceContext, snapshot: ApiKeySnapshot): Promise<void> {
  const set: Record<string, unknown> = {
    name: snapshot.name,
    scopes: snapshot.scopes,
    secretHash: snapshot.secretHash,
    createdAt: new Date(snapshot.createdAt),
    revision: snapshot.revision,
  };
  const unset: Record<string, ''> = {};
  for (const field of optionalDates) {
    const value = snapshot[field];
    if (value) set[field] = new Date(value);
    else unset[field] = '';
  }
  if (snapshot.previousSecretHash) set.previousSecretHash = snapshot.previousSecretHash;
  else unset.previousSecretHash = '';
  try {
    await ctx.models.apiKeys.updateOne(
      { _id: snapshot.keyId, revision: { $lt: snapshot.revision } },
      { $set: set, ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { upsert: true },
    );
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  ctx.apiKeys.invalidate(snapshot.keyId);
}
