import { isDeepStrictEqual } from 'node:util';
import { AppError } from '@herald/runtime';
import { type AnyBulkWriteOperation } from 'mongoose';
import { type AuthContext } from '../../context';
import { type Subscriber } from '../data/subscriber-model';
import { type OutboxEntry } from '../../outbox/data/outbox-entry';
import {
  STORED_PERSONAL_FIELDS,
  checkInput,
  personalData,
  storedPersonalData,
  subscriberSnapshot,
  toStored,
  upsertSubscriber,
  type StoredSubscriber,
  type SubscriberInput,
} from './subscribers';

export type UpsertOutcome = 'created' | 'updated' | 'unchanged' | { rejected: string };

/**
 * Upserts many subscribers as `PUT /subscribers/{id}` would, one by one,
 * but in one read and one bulk write for the batch, each change with its
 * `subscriber.upserted` in the same document update (the outbox), then the
 * batch's events published together. A row that lost a race with another
 * writer (or repeats an id of the batch) goes through the single upsert.
 * Outcomes are in the order of `rows`.
 */
export async function upsertSubscribers(
  ctx: AuthContext,
  rows: { externalId: string; input: SubscriberInput }[],
  correlationId: string,
): Promise<UpsertOutcome[]> {
  const outcomes: UpsertOutcome[] = rows.map(() => 'unchanged');
  const firstIndex = new Map<string, number>();
  const later: number[] = [];
  rows.forEach((row, index) => {
    try {
      checkInput(row.input);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const fields = (error as { errors?: { field: string; message: string }[] }).errors ?? [];
      outcomes[index] = {
        rejected: fields.map((field) => `${field.field.replace('/body/', '')} ${field.message}`).join('; '),
      };
      return;
    }
    if (firstIndex.has(row.externalId)) later.push(index);
    else firstIndex.set(row.externalId, index);
  });

  const ids = [...firstIndex.keys()];
  const current = new Map(
    (await ctx.models.subscribers.find({ _id: { $in: ids } }, { outbox: 0 }).lean<StoredSubscriber[]>()).map(
      (subscriber) => [subscriber._id, subscriber],
    ),
  );
  const now = ctx.now();
  const operations: AnyBulkWriteOperation<Subscriber>[] = [];
  const written: { index: number; entry: OutboxEntry }[] = [];
  for (const [externalId, index] of firstIndex) {
    const wanted = personalData(rows[index]!.input);
    const existing = current.get(externalId);
    const live = existing && !existing.deletedAt ? existing : undefined;
    if (live && isDeepStrictEqual(storedPersonalData(live), wanted)) continue;
    const stored = toStored(wanted);
    const after: StoredSubscriber = {
      _id: externalId,
      ...stored,
      createdAt: live?.createdAt ?? now,
      updatedAt: now,
      revision: (existing?.revision ?? 0) + 1,
      outbox: [],
    };
    const entry = ctx.subscriberOutbox.entry('subscriber.upserted', subscriberSnapshot(after), correlationId);
    if (!existing) {
      operations.push({ insertOne: { document: { ...after, outbox: [entry] } as never } });
    } else {
      const cleared = STORED_PERSONAL_FIELDS.filter((field) => stored[field] === undefined);
      operations.push({
        updateOne: {
          filter: { _id: externalId, revision: existing.revision },
          update: {
            $set: { ...stored, createdAt: after.createdAt, updatedAt: now, revision: after.revision },
            $unset: Object.fromEntries([...cleared, 'deletedAt'].map((field) => [field, 1])),
            $push: { outbox: entry },
          },
        },
      });
    }
    outcomes[index] = live ? 'updated' : 'created';
    written.push({ index, entry });
  }
  if (operations.length > 0) {
    let applied = operations.length;
    try {
      // the driver's bulk write: the documents are built whole above, mongoose's casting of 500 of them cost more than the write
      const result = await ctx.models.subscribers.collection.bulkWrite(operations as never, {
        ordered: false,
      });
      applied = result.insertedCount + result.matchedCount;
    } catch (error) {
      // a duplicate id on insert: someone created it meanwhile; the others were written
      const result = (error as { result?: { insertedCount: number; matchedCount: number } }).result;
      if (!result) throw error;
      applied = result.insertedCount + result.matchedCount;
    }
    if (applied < operations.length) {
      // Which ones lost a race: their event is not in their document.
      const landed = await ctx.models.subscribers
        .find(
          { _id: { $in: ids }, 'outbox.messageId': { $in: written.map((write) => write.entry.messageId) } },
          { 'outbox.messageId': 1 },
        )
        .lean<{ outbox: { messageId: string }[] }[]>();
      const saved = new Set(landed.flatMap((doc) => doc.outbox.map((entry) => entry.messageId)));
      for (const write of written) if (!saved.has(write.entry.messageId)) later.push(write.index);
    }
  }
  const lost = new Set(later);
  const landed = written.filter((write) => !lost.has(write.index));
  await ctx.subscriberOutbox.publishWritten(
    landed.map((write) => rows[write.index]!.externalId),
    landed.map((write) => write.entry),
  );
  for (const index of later.sort((a, b) => a - b)) {
    const { externalId, input } = rows[index]!;
    const { created, subscriber } = await upsertSubscriber(ctx, externalId, input, correlationId);
    outcomes[index] = created
      ? 'created'
      : subscriber.updatedAt === now.toISOString()
        ? 'updated'
        : 'unchanged';
  }
  return outcomes;
}
