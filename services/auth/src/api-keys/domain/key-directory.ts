import { cachedApiKeyDirectory, type CachedApiKeyDirectory } from '@herald/runtime/http';
import { type ApiKeyModel } from '../data/api-key-model';

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Auth accepts keys from its own collection, through the same ≤ 2 s cache
 * other services put in front of their read model; a change made here
 * invalidates this instance's entry at once.
 *
 * `recordUse` writes `lastUsedAt` at most once a minute per key: remembered
 * here so most requests write nothing, and conditional in the database so
 * several instances together still write about once a minute.
 */
export function createApiKeyDirectory(
  apiKeys: ApiKeyModel,
  options: { cacheMs: number; now: () => Date },
): CachedApiKeyDirectory {
  const lastRecorded = new Map<string, number>();
  return cachedApiKeyDirectory(
    {
      async lookup(keyId) {
        const key = await apiKeys
          .findById(keyId, {
            secretHash: 1,
            scopes: 1,
            expiresAt: 1,
            revokedAt: 1,
            previousSecretHash: 1,
            previousSecretExpiresAt: 1,
          })
          .lean();
        return key ? { ...key, keyId: key._id } : undefined;
      },
      recordUse(keyId, at) {
        const last = lastRecorded.get(keyId);
        if (last !== undefined && at.getTime() - last < LAST_USED_RESOLUTION_MS) return;
        if (lastRecorded.size >= 10_000) lastRecorded.clear();
        lastRecorded.set(keyId, at.getTime());
        const staleBefore = new Date(at.getTime() - LAST_USED_RESOLUTION_MS);
        void apiKeys
          .updateOne(
            {
              _id: keyId,
              $or: [{ lastUsedAt: { $exists: false } }, { lastUsedAt: { $lt: staleBefore } }],
            },
            { $set: { lastUsedAt: at } },
          )
          .catch(() => lastRecorded.delete(keyId));
      },
    },
    { ttlMs: options.cacheMs, now: options.now },
  );
}
