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

/**
 * Whether a provider event id was already applied (and is still remembered).
 * Read before applying and written after (`rememberEvent`), not claimed up
 * front: a crash between the two leaves the event to the provider's retry,
 * whose second application the domain makes harmless, instead of losing it.
 */
export async function wasApplied(tokens: WebhookTokenModel, key: string, now: Date): Promise<boolean> {
  return (await tokens.exists({ _id: key, expiresAt: { $gt: now } })) !== null;
}

export async function rememberEvent(
  tokens: WebhookTokenModel,
  key: string,
  now: Date,
  keepMs: number,
): Promise<void> {
  try {
    await tokens.updateOne(
      { _id: key },
      { $set: { expiresAt: new Date(now.getTime() + keepMs) } },
      { upsert: true },
    );
  } catch (error) {
    // The same event applied twice at once: the other upsert remembered it.
    if (!isDuplicateKeyError(error)) throw error;
  }
}
