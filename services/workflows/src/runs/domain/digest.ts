import { Types } from 'mongoose';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { durationMs, valueAt } from '../../kernel/durations';
import { type ServiceContext } from '../../kernel/context';
import { type DigestStep } from '../../definitions/domain/types';
import { type DigestEvent, type RunRecord } from '../data/run-model';

/*
 * A digest: the first run to reach the step with a given key opens a
 * bucket, due a window later, and waits for it; runs arriving with the same
 * key while it is open add their event to it and end `digested`. When the
 * window ends, the owner closes the bucket (no event can join it after
 * that: joins match only an open bucket) and carries on with every event,
 * ordered by trigger time. A run re-executing the step after a crash finds
 * its own event and does not add it twice.
 */

export type DigestOutcome =
  | { kind: 'joined'; owner: string }
  | { kind: 'opened'; bucketId: string; until: Date }
  | { kind: 'closed'; events: DigestEvent[] };

function bucketKey(run: RunRecord, step: DigestStep, data: Record<string, unknown>): string {
  const key = valueAt(data, step.key);
  return [run.workflowKey, step.id, run.recipientKey, JSON.stringify(key ?? null)].join('|');
}

const byTriggerTime = (a: DigestEvent, b: DigestEvent) =>
  a.at.getTime() - b.at.getTime() || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0);

/** The owner's wake-up at the end of the window: closes the bucket and returns its events in order. */
export async function closeDigest(
  ctx: ServiceContext,
  run: RunRecord,
  bucketId: string,
): Promise<DigestOutcome> {
  const bucket = await ctx.models.digests
    .findOneAndUpdate(
      { _id: new Types.ObjectId(bucketId), owner: run._id.toHexString() },
      { $unset: { openKey: '' }, $set: { closedAt: ctx.now() } },
      { returnDocument: 'after' },
    )
    .lean();
  const events = (bucket?.events ?? []).map((event) => ({ ...event, at: new Date(event.at) }));
  return { kind: 'closed', events: events.sort(byTriggerTime) };
}

/** A run reaching a digest step: joins the open bucket for its key, or opens one and waits. */
export async function enterDigest(
  ctx: ServiceContext,
  run: RunRecord,
  step: DigestStep,
  data: Record<string, unknown>,
): Promise<DigestOutcome> {
  const runId = run._id.toHexString();
  const mine = await ctx.models.digests.findOne({ 'events.runId': runId }, { owner: 1, dueAt: 1 }).lean();
  if (mine) {
    if (mine.owner !== runId) return { kind: 'joined', owner: mine.owner };
    return { kind: 'opened', bucketId: mine._id.toHexString(), until: mine.dueAt };
  }
  const openKey = bucketKey(run, step, data);
  const event: DigestEvent = { runId, at: run.createdAt, data };
  for (let attempt = 0; attempt < 5; attempt++) {
    const joined = await ctx.models.digests
      .findOneAndUpdate({ openKey }, { $push: { events: event } }, { projection: { owner: 1 } })
      .lean();
    if (joined) return { kind: 'joined', owner: joined.owner };
    const until = new Date(ctx.now().getTime() + durationMs(step.window)!);
    try {
      const created = await ctx.models.digests.create({
        openKey,
        owner: runId,
        dueAt: until,
        events: [event],
      });
      return { kind: 'opened', bucketId: created._id.toHexString(), until };
    } catch (error) {
      // another run opened it first: join that one
      if (!isDuplicateKeyError(error)) throw error;
    }
  }
  throw new Error(`digest ${openKey}: could neither join nor open a bucket`);
}
