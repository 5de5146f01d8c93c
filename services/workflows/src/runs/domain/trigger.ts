import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { ForbiddenError, ValidationError } from '@herald/runtime';
import { Scopes, hasScope, type AuthenticatedUser } from '@herald/runtime/http';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { type WorkflowRecipient, type WorkflowSender } from '@herald/contracts';
import { type ServiceContext } from '../../kernel/context';
import { workflowForTrigger } from '../../definitions/domain/definitions';
import { topicMembers } from '../../topics/domain/membership';
import { type RunRecord } from '../data/run-model';
import { advanceRun, claimRun } from './engine';
import { type RunSummary, type TriggerInput } from './types';
import { runSummary } from './views';

const INSERT_BATCH = 1_000;

/** The largest `data` a trigger may carry, serialised (as a notification's). */
export const MAX_DATA_BYTES = 8_192;

/**
 * Who may trigger: an application's API key with `notifications:send`, or
 * an admin (user or `admin` key). A normal user may not: a workflow sends
 * to anyone it names.
 */
export function assertMayTrigger(principal: AuthenticatedUser): void {
  const mayTrigger =
    principal.role === 'admin' ||
    (principal.kind === 'apikey' && hasScope(principal, Scopes.notificationsSend));
  if (!mayTrigger) {
    throw new ForbiddenError(
      'trigger_forbidden',
      'Only API keys with notifications:send and admins trigger workflows',
    );
  }
}

export function recipientKeyOf(recipient: WorkflowRecipient): string {
  if ('userId' in recipient) return recipient.userId;
  if ('subscriberId' in recipient) return `sub:${recipient.subscriberId}`;
  if ('email' in recipient) return `email:${recipient.email.toLowerCase()}`;
  return `phone:${recipient.phone}`;
}

export function senderOf(principal: AuthenticatedUser): WorkflowSender {
  return {
    kind: principal.kind === 'apikey' ? 'apikey' : 'user',
    id: principal.id,
    role: principal.role,
    scopes: [...principal.scopes].slice(0, 16),
  };
}

/**
 * Starts one run per recipient, pinned to the workflow's current version
 * (its steps copied into the run). With a `transactionId` the same id never
 * starts a second run for a recipient: a repeated trigger answers with the
 * runs it started the first time. The runs are due at once: advanced right
 * after the answer, and by the poller if this process dies first.
 */
export async function triggerWorkflow(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  key: string,
  input: TriggerInput,
): Promise<{ runs: RunSummary[] }> {
  assertMayTrigger(principal);
  const workflow = await workflowForTrigger(ctx, key);
  const data = input.data ?? {};
  const dataJson = JSON.stringify(data);
  if (Buffer.byteLength(dataJson) > MAX_DATA_BYTES) {
    throw new ValidationError('The request is invalid', [
      { field: '/body/data', message: `must be at most ${MAX_DATA_BYTES} bytes as JSON` },
    ]);
  }
  const recipients: WorkflowRecipient[] = Array.isArray(input.recipients)
    ? input.recipients
    : (await topicMembers(ctx, input.recipients.topic)).map((subscriberId) => ({ subscriberId }));
  const now = ctx.now();
  const sender = senderOf(principal);
  const seen = new Set<string>();
  const runs: RunRecord[] = [];
  for (const recipient of recipients) {
    const recipientKey = recipientKeyOf(recipient);
    if (seen.has(recipientKey)) continue;
    seen.add(recipientKey);
    runs.push({
      _id: new Types.ObjectId(),
      workflowKey: workflow.key,
      workflowVersion: workflow.version,
      steps: workflow.steps,
      ...(workflow.category ? { category: workflow.category } : {}),
      sender,
      recipient,
      recipientKey,
      dataJson,
      ...(input.transactionId
        ? {
            transactionId: input.transactionId,
            dedupeKey: `${principal.id}|${input.transactionId}|${recipientKey}`,
          }
        : {}),
      status: 'active',
      position: 0,
      wakeAt: now,
      history: [],
      sends: [],
      engagement: [],
      cancelOn: [],
      announcements: [{ status: 'active', at: now }],
      createdAt: now,
      updatedAt: now,
    });
  }
  const stored: RunRecord[] = [];
  // a topic's members: inserted a thousand at a time
  for (let from = 0; from < runs.length; from += INSERT_BATCH) {
    stored.push(...(await insertRuns(ctx, runs.slice(from, from + INSERT_BATCH))));
  }
  const fresh = new Set(runs.map((run) => run._id.toHexString()));
  const started = stored.filter((run) => fresh.has(run._id.toHexString()));
  ctx.background.run('advance new runs', async () => {
    const owner = randomUUID();
    for (const run of started) {
      const claimed = await claimRun(ctx, owner, { _id: run._id });
      if (claimed) await advanceRun(ctx, claimed, owner);
    }
  });
  return { runs: stored.map(runSummary) };
}

/** Inserts the runs; those whose transaction already started one for the recipient answer with that run. */
async function insertRuns(ctx: ServiceContext, runs: RunRecord[]): Promise<RunRecord[]> {
  try {
    await ctx.models.runs.insertMany(runs, { ordered: false });
    return runs;
  } catch (error) {
    if (!isDuplicateKeyError(error) && !hasOnlyDuplicates(error)) throw error;
  }
  const keys = runs.map((run) => run.dedupeKey).filter((key): key is string => key !== undefined);
  const existing = await ctx.models.runs.find({ dedupeKey: { $in: keys } }).lean<RunRecord[]>();
  const byKey = new Map(existing.map((run) => [run.dedupeKey, run]));
  return runs.map((run) => (run.dedupeKey && byKey.get(run.dedupeKey)) || run);
}

function hasOnlyDuplicates(error: unknown): boolean {
  const writeErrors = (error as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
  return (
    Array.isArray(writeErrors) &&
    writeErrors.length > 0 &&
    writeErrors.every((one) => (one.code ?? one.err?.code) === 11000)
  );
}
