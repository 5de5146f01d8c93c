import { Types } from 'mongoose';
import { ConflictError, NotFoundError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { decodeTimeIdCursor, encodeTimeIdCursor, olderThan } from '@herald/runtime/mongo';
import { type ServiceContext } from '../../kernel/context';
import { type RunRecord } from '../data/run-model';
import { cancelActive } from './cancel';
import { assertMayTrigger } from './trigger';
import { type RunDetail, type RunListQuery, type RunSummary } from './types';
import { runDetail, runSummary } from './views';

/** A run is visible to whoever triggered it (the key or the admin) and to every admin; others see 404. */
export function ownFilter(principal: AuthenticatedUser): Record<string, unknown> {
  return principal.role === 'admin' ? {} : { 'sender.id': principal.id };
}

function notFound(): NotFoundError {
  return new NotFoundError('run_not_found', 'No such workflow run');
}

export async function getRun(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<RunDetail> {
  assertMayTrigger(principal);
  if (!Types.ObjectId.isValid(id)) throw notFound();
  const run = await ctx.models.runs.findOne({ _id: id, ...ownFilter(principal) }).lean<RunRecord>();
  if (!run) throw notFound();
  return runDetail(run);
}

/** Runs newest first, per workflow and/or per recipient, cursor-paginated. */
export async function listRuns(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  query: RunListQuery,
): Promise<{ items: RunSummary[]; nextCursor: string | null }> {
  assertMayTrigger(principal);
  const limit = query.limit ?? 20;
  const filter: Record<string, unknown> = {
    ...ownFilter(principal),
    ...(query.workflow ? { workflowKey: query.workflow } : {}),
    ...(query.recipient ? { recipientKey: query.recipient } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.cursor ? olderThan('createdAt', decodeTimeIdCursor(query.cursor)) : {}),
  };
  const runs = await ctx.models.runs
    .find(filter, { steps: 0, history: 0, engagement: 0, digest: 0 })
    .sort({ createdAt: -1, _id: -1 })
    .limit(limit + 1)
    .lean<RunRecord[]>();
  const page = runs.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(runSummary),
    nextCursor: runs.length > limit && last ? encodeTimeIdCursor({ at: last.createdAt, id: last._id }) : null,
  };
}

/** `POST /workflow-runs/{id}/cancel`: 409 when the run has already ended. */
export async function cancelRun(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<RunDetail> {
  assertMayTrigger(principal);
  if (!Types.ObjectId.isValid(id)) throw notFound();
  const filter = { _id: new Types.ObjectId(id), ...ownFilter(principal) };
  const found = await ctx.models.runs.exists(filter);
  if (!found) throw notFound();
  await cancelActive(ctx, filter, `cancelled by ${principal.id}`);
  const run = await ctx.models.runs.findById(id).lean<RunRecord>();
  if (run!.status !== 'cancelled') throw new ConflictError('run_ended', `The run has ended (${run!.status})`);
  return runDetail(run!);
}

/** `POST /workflows/cancel`: every active run the caller started under `transactionId` (an admin: anyone's). */
export async function cancelTransaction(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  transactionId: string,
): Promise<{ cancelled: string[] }> {
  assertMayTrigger(principal);
  const filter = { ...ownFilter(principal), transactionId };
  const active = await ctx.models.runs
    .find({ ...filter, status: 'active' }, { _id: 1 })
    .lean<{ _id: Types.ObjectId }[]>();
  if (active.length === 0) return { cancelled: [] };
  await cancelActive(
    ctx,
    { _id: { $in: active.map((run) => run._id) } },
    `transaction ${transactionId} cancelled`,
  );
  const ended = await ctx.models.runs
    .find({ _id: { $in: active.map((run) => run._id) }, status: 'cancelled' }, { _id: 1 })
    .lean<{ _id: Types.ObjectId }[]>();
  return { cancelled: ended.map((run) => run._id.toHexString()) };
}
