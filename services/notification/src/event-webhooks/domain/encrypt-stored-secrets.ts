import { type EndpointModel, type EndpointRecord } from '../data/models';
import { SEALED_PREFIX, SecretBox } from './secret-box';

const SEALED = new RegExp(`^${SEALED_PREFIX}`);

/**
 * The start-up migration of endpoints written before their secrets were
 * encrypted: every plaintext `secret` and `previousSecrets[].secret` is
 * encrypted in place. Idempotent (a sealed value is left alone), and safe
 * next to another instance doing the same or a rotation: each update
 * matches the secrets it read, so a document changed meanwhile is skipped
 * (whoever changed it wrote sealed values). Answers how many it encrypted.
 */
export async function encryptStoredSecrets(endpoints: EndpointModel, key: Buffer): Promise<number> {
  const box = new SecretBox(key);
  const plaintext = await endpoints
    .find({
      $or: [{ secret: { $not: SEALED } }, { previousSecrets: { $elemMatch: { secret: { $not: SEALED } } } }],
    })
    .select({ secret: 1, previousSecrets: 1 })
    .lean<Pick<EndpointRecord, '_id' | 'secret' | 'previousSecrets'>[]>();
  let encrypted = 0;
  for (const record of plaintext) {
    const previousSecrets = record.previousSecrets as EndpointRecord['previousSecrets'] | undefined;
    const result = await endpoints.collection.updateOne(
      {
        _id: record._id as never,
        secret: record.secret,
        previousSecrets: previousSecrets ?? { $exists: false },
      },
      {
        $set: {
          secret: box.sealStored(record.secret),
          previousSecrets: (previousSecrets ?? []).map((previous) => ({
            secret: box.sealStored(previous.secret),
            expiresAt: previous.expiresAt,
          })),
        },
      },
    );
    encrypted += result.modifiedCount;
  }
  return encrypted;
}
