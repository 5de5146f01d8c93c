import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type WebhookTokenModel } from '../data/webhook-models';

/**
 * Records a Mailgun signature token; false when it was already seen and has
 * not expired (a replay). The expiry is compared here, not left to the TTL
 * index, which deletes late and not at all on some servers.
 */
export async function recordToken(
  tokens: WebhookTokenModel,
  token: string,
  now: Date,
  keepMs: number,
): Promise<boolean> {
  const expiresAt = new Date(now.getTime() + keepMs);
  try {
    await tokens.create({ _id: token, expiresAt });
    return true;
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
  // Seen before: only an expired entry the TTL index has not removed yet may be reused.
  const reused = await tokens.updateOne({ _id: token, expiresAt: { $lte: now } }, { $set: { expiresAt } });
  return reused.modifiedCount === 1;
}
