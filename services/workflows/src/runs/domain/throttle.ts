import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { durationMs, valueAt } from '../../kernel/durations';
import { type ServiceContext } from '../../kernel/context';
import { type ThrottleStep } from '../../definitions/domain/types';
import { type RunRecord } from '../data/run-model';

/*
 * A throttle: at most `limit` runs per window per recipient (and key) go
 * on. The window starts with the first run that passes and lasts `window`;
 * the counter lives in MongoDB and changes by compare-and-set, so any
 * number of instances count together. A run re-executing the step after a
 * crash is recognised (`runs`) and not counted twice.
 */

function throttleKey(run: RunRecord, step: ThrottleStep, data: Record<string, unknown>): string {
  const key = step.key ? valueAt(data, step.key) : null;
  return [run.workflowKey, step.id, run.recipientKey, JSON.stringify(key ?? null)].join('|');
}

/** True when the run may go on; false when it is over the limit. */
export async function passThrottle(
  ctx: ServiceContext,
  run: RunRecord,
  step: ThrottleStep,
  data: Record<string, unknown>,
): Promise<boolean> {
  const _id = throttleKey(run, step, data);
  const runId = run._id.toHexString();
  const windows = ctx.models.throttles;
  for (let attempt = 0; attempt < 20; attempt++) {
    const now = ctx.now();
    const windowEnd = new Date(now.getTime() + durationMs(step.window)!);
    const current = await windows.findById(_id).lean();
    if (!current) {
      try {
        await windows.create({ _id, windowEnd, count: 1, runs: [runId] });
        return true;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        continue;
      }
    }
    if (current.windowEnd > now && current.runs.includes(runId)) return true;
    if (current.windowEnd <= now) {
      const renewed = await windows.updateOne(
        { _id, windowEnd: current.windowEnd, count: current.count },
        { $set: { windowEnd, count: 1, runs: [runId] } },
      );
      if (renewed.modifiedCount === 1) return true;
      continue;
    }
    if (current.count >= step.limit) return false;
    const counted = await windows.updateOne(
      { _id, windowEnd: current.windowEnd, count: current.count },
      { $inc: { count: 1 }, $push: { runs: runId } },
    );
    if (counted.modifiedCount === 1) return true;
  }
  throw new Error(`throttle ${_id}: too much contention`);
}
