import { Types } from 'mongoose';
import { UnprocessableError } from '@herald/runtime';
import { mapMongoError } from '@herald/runtime/mongo';
import { type IdempotencyRecord } from '../data/idempotency-model';
import { requestHash } from '../../kernel/canonical-hash';
import { type ServiceContext } from '../../kernel/context';

/**
 * Runs `create` at most once per (user, key) within the window and answers
 * every repeat with the first response. The notification id is fixed when
 * the key is first recorded, so two concurrent repeats, or a repeat after a
 * crash mid-request, both land on the same notification (its insert is
 * deduplicated by id) instead of creating a second one.
 */
export async function withIdempotency<T>(
  ctx: ServiceContext,
  scope: { userId: string; key: string; body: unknown },
  create: (notificationId: Types.ObjectId) => Promise<T>,
): Promise<T> {
  const hash = requestHash(scope.body);
  const record = await claimKey(ctx, scope.userId, scope.key, hash);
  if (record.requestHash !== hash) {
    throw new UnprocessableError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request body',
    );
  }
  if (record.response !== undefined) return record.response as T;

  const response = await create(new Types.ObjectId(record.notificationId));
  await ctx.models.idempotencyKeys.updateOne(
    {
      userId: scope.userId,
      key: scope.key,
      notificationId: record.notificationId,
      response: { $exists: false },
    },
    { $set: { response } },
  );
  return response;
}

async function claimKey(
  ctx: ServiceContext,
  userId: string,
  key: string,
  hash: string,
): Promise<IdempotencyRecord> {
  const { idempotencyKeys } = ctx.models;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const now = ctx.now();
    const windowStart = new Date(now.getTime() - ctx.settings.idempotencyWindowMs);
    const existing = await idempotencyKeys.findOne({ userId, key }).lean<IdempotencyRecord>();
    if (existing && existing.createdAt > windowStart) return existing;

    const fresh: IdempotencyRecord = {
      userId,
      key,
      requestHash: hash,
      notificationId: new Types.ObjectId().toHexString(),
      createdAt: now,
      expiresAt: new Date(now.getTime() + ctx.settings.idempotencyWindowMs),
    };
    if (existing) {
      // The window has passed: the key starts afresh, unless another request renewed it first.
      const renewed = await idempotencyKeys.findOneAndReplace(
        { userId, key, createdAt: existing.createdAt },
        fresh,
        { returnDocument: 'after' },
      );
      if (renewed) return fresh;
      continue;
    }
    try {
      await idempotencyKeys.create(fresh);
      return fresh;
    } catch (error) {
      if (mapMongoError(error) === error) throw error;
      // Another request with the same key won the race; read its record.
    }
  }
  throw new Error('could not record the Idempotency-Key');
}
