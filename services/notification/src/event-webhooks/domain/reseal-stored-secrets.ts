import { type EndpointModel, type EndpointRecord } from '../data/models';
import { SecretBoxError, type SecretBox } from './secret-box';

export interface ResealReport {
  /** endpoints whose stored secrets were (re-)sealed under the current key */
  resealed: number;
  /** endpoints holding a secret that opens under none of the keys: left as it is, and it cannot sign */
  unreadable: string[];
}

/**
 * The start-up migration of the endpoints' stored secrets to the current
 * WEBHOOK_SECRETS_KEY: every `secret` and `previousSecrets[].secret` that is
 * plaintext (written before encryption), `enc:v1` (before keys rotated) or
 * sealed under a previous key is sealed anew under the current one. After
 * one start with the new key and the old one in
 * WEBHOOK_SECRETS_PREVIOUS_KEYS, the old key can be dropped.
 *
 * Idempotent (a value sealed under the current key is left alone), and safe
 * next to another instance doing the same or a rotation: each update
 * matches the secrets it read, so a document changed meanwhile is skipped
 * (whoever changed it wrote values sealed under its own current key). A
 * value that opens under none of the keys is left as it is and its
 * endpoint reported: it cannot sign until the key that sealed it is back.
 */
export async function resealStoredSecrets(endpoints: EndpointModel, box: SecretBox): Promise<ResealReport> {
  // `enc:v2:`, a base64url key id and a colon: nothing to escape
  const current = new RegExp(`^${box.currentPrefix}`);
  const stale = await endpoints
    .find({
      $or: [
        { secret: { $not: current } },
        { previousSecrets: { $elemMatch: { secret: { $not: current } } } },
      ],
    })
    .select({ secret: 1, previousSecrets: 1 })
    .lean<Pick<EndpointRecord, '_id' | 'secret' | 'previousSecrets'>[]>();
  const report: ResealReport = { resealed: 0, unreadable: [] };
  for (const record of stale) {
    let unreadable = false;
    const reseal = (stored: string): string => {
      try {
        return box.sealStored(stored);
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        unreadable = true;
        return stored;
      }
    };
    const previousSecrets = record.previousSecrets as EndpointRecord['previousSecrets'] | undefined;
    const secret = reseal(record.secret);
    const resealedPrevious = (previousSecrets ?? []).map((previous) => ({
      secret: reseal(previous.secret),
      expiresAt: previous.expiresAt,
    }));
    if (unreadable) report.unreadable.push(record._id);
    const changed =
      secret !== record.secret ||
      resealedPrevious.some((previous, index) => previous.secret !== previousSecrets?.[index]?.secret);
    if (!changed) continue;
    const result = await endpoints.collection.updateOne(
      {
        _id: record._id as never,
        secret: record.secret,
        previousSecrets: previousSecrets ?? { $exists: false },
      },
      { $set: { secret, previousSecrets: resealedPrevious } },
    );
    report.resealed += result.modifiedCount;
  }
  return report;
}
