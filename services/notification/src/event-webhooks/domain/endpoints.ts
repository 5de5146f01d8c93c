import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '@herald/runtime';
import { type AuthenticatedUser } from '@herald/runtime/http';
import { type ServiceContext } from '../../kernel/context';
import { type DeliveryRecord, type EndpointRecord } from '../data/models';
import { PLATFORM_OWNER, apiKeyOwner } from './recorder';
import { SecretBoxError, secretBoxFor } from './secret-box';
import { generateSecret } from './signing';
import { TargetRefusedError, checkedAddresses, parseTarget } from '@herald/runtime/net';
import { type DeliveryView, type EndpointChange, type EndpointInput, type EndpointView } from './types';

/*
 * Who manages which endpoint: an admin user registers platform endpoints
 * (every notification) and sees every endpoint; an API key (with
 * `webhooks:write`, or `admin`) registers endpoints for its own sends and
 * sees only those: another's is 404, as if it did not exist.
 */

function ownerFor(principal: AuthenticatedUser): string {
  return principal.kind === 'apikey' ? apiKeyOwner(principal.id) : PLATFORM_OWNER;
}

function visibleTo(principal: AuthenticatedUser): Record<string, string> {
  return principal.kind === 'apikey' ? { owner: apiKeyOwner(principal.id) } : {};
}

const notFound = () => new NotFoundError('endpoint_not_found', 'No such webhook endpoint');

/**
 * Endpoints one owner may have. Each endpoint multiplies every event into a
 * delivery and an outgoing request: without a bound, one key could make
 * Herald write and send thousands per notification. (Counted before the
 * insert: two concurrent creates may pass it by one.)
 */
export const MAX_ENDPOINTS_PER_OWNER = 20;

/** The URL, refused with 400 naming the field when it is not a public http(s) target under this config. */
async function checkUrl(ctx: ServiceContext, raw: string): Promise<string> {
  try {
    const url = parseTarget(raw);
    await checkedAddresses(url, ctx.settings.eventWebhooks, ctx.resolveHost);
    return url.toString();
  } catch (error) {
    if (!(error instanceof TargetRefusedError)) throw error;
    throw new ValidationError(
      'The webhook URL is not allowed',
      [{ field: '/body/url', message: error.message }],
      error.code,
    );
  }
}

const listOrUnset = (values: string[] | undefined) =>
  values && values.length > 0 ? [...new Set(values)] : undefined;

export function endpointView(record: EndpointRecord): EndpointView {
  return {
    id: record._id,
    url: record.url,
    ...(record.description ? { description: record.description } : {}),
    eventTypes: record.eventTypes,
    ...(record.categories?.length ? { categories: record.categories } : {}),
    ...(record.tenants?.length ? { tenants: record.tenants } : {}),
    disabled: record.disabled,
    ...(record.disabledAt ? { disabledAt: record.disabledAt.toISOString() } : {}),
    ...(record.disabledReason ? { disabledReason: record.disabledReason } : {}),
    ...(record.failingSince ? { failingSince: record.failingSince.toISOString() } : {}),
    consecutiveFailures: record.consecutiveFailures,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}

export async function createEndpoint(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  input: EndpointInput,
): Promise<EndpointView & { secret: string }> {
  const url = await checkUrl(ctx, input.url);
  const owner = ownerFor(principal);
  if ((await ctx.models.eventWebhookEndpoints.countDocuments({ owner })) >= MAX_ENDPOINTS_PER_OWNER)
    throw new ConflictError(
      'endpoint_limit',
      `At most ${MAX_ENDPOINTS_PER_OWNER} endpoints; delete one first`,
    );
  const now = ctx.now();
  // shown once, here; stored encrypted (WEBHOOK_SECRETS_KEY)
  const secret = generateSecret();
  const box = secretBoxFor(ctx.settings.eventWebhooks);
  const record: EndpointRecord = {
    _id: `ep_${randomBytes(12).toString('hex')}`,
    owner,
    url,
    ...(input.description ? { description: input.description } : {}),
    eventTypes: [...new Set(input.eventTypes)],
    ...(listOrUnset(input.categories) ? { categories: listOrUnset(input.categories) } : {}),
    ...(listOrUnset(input.tenants) ? { tenants: listOrUnset(input.tenants) } : {}),
    secret: box.seal(secret),
    previousSecrets: [],
    disabled: false,
    consecutiveFailures: 0,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.models.eventWebhookEndpoints.collection.insertOne(record as never);
  ctx.eventWebhooks.invalidate();
  return { ...endpointView(record), secret };
}

export async function listEndpoints(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  page: { limit: number; cursor?: string },
): Promise<{ items: EndpointView[]; nextCursor: string | null }> {
  const filter = {
    ...visibleTo(principal),
    ...(page.cursor ? { _id: { $gt: page.cursor } } : {}),
  };
  const records = await ctx.models.eventWebhookEndpoints
    .find(filter)
    .sort({ _id: 1 })
    .limit(page.limit + 1)
    .lean<EndpointRecord[]>();
  const items = records.slice(0, page.limit);
  return {
    items: items.map(endpointView),
    nextCursor: records.length > page.limit ? items[items.length - 1]!._id : null,
  };
}

async function findVisible(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<EndpointRecord> {
  const record = await ctx.models.eventWebhookEndpoints
    .findOne({ _id: id, ...visibleTo(principal) })
    .lean<EndpointRecord>();
  if (!record) throw notFound();
  return record;
}

export async function getEndpoint(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<EndpointView> {
  return endpointView(await findVisible(ctx, principal, id));
}

export async function updateEndpoint(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
  change: EndpointChange,
): Promise<EndpointView> {
  const set: Record<string, unknown> = { updatedAt: ctx.now() };
  const unset: Record<string, ''> = {};
  if (change.url !== undefined) set.url = await checkUrl(ctx, change.url);
  if (change.eventTypes !== undefined) set.eventTypes = [...new Set(change.eventTypes)];
  if (change.description !== undefined) set.description = change.description;
  for (const field of ['categories', 'tenants'] as const) {
    if (change[field] === undefined) continue;
    const values = listOrUnset(change[field]);
    if (values) set[field] = values;
    else unset[field] = '';
  }
  const record = await ctx.models.eventWebhookEndpoints
    .findOneAndUpdate(
      { _id: id, ...visibleTo(principal) },
      { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
      { returnDocument: 'after' },
    )
    .lean<EndpointRecord>();
  if (!record) throw notFound();
  ctx.eventWebhooks.invalidate();
  return endpointView(record);
}

/** Deletes the endpoint and what it still had to deliver (nobody is left to send it to). */
export async function deleteEndpoint(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<void> {
  const result = await ctx.models.eventWebhookEndpoints.deleteOne({ _id: id, ...visibleTo(principal) });
  if (result.deletedCount !== 1) throw notFound();
  ctx.eventWebhooks.invalidate();
  await ctx.models.eventWebhookDeliveries.deleteMany({ endpointId: id });
}

/**
 * A new secret, shown once. The old one keeps signing next to it (a second
 * `v1,` signature) for the grace period, so a receiver can switch without
 * missing a delivery; a secret rotated twice within it keeps both old ones.
 */
export async function rotateSecret(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<{ secret: string; previousSecretExpiresAt: string | null }> {
  const now = ctx.now();
  const record = await findVisible(ctx, principal, id);
  const grace = ctx.settings.eventWebhooks.secretGraceMs;
  const expiresAt = new Date(now.getTime() + grace);
  // Stored secrets stay encrypted; one in plaintext (from before encryption) or under an older key
  // is sealed anew as it moves. One that opens under no key (its key lost) cannot sign: it is
  // dropped, and this rotation is how its endpoint gets a working secret again.
  const box = secretBoxFor(ctx.settings.eventWebhooks);
  const kept = (stored: string): string | undefined => {
    try {
      return box.sealStored(stored);
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      ctx.log.warn(
        { endpointId: id },
        'a webhook signing secret that opens under no key was dropped by a rotation',
      );
      return undefined;
    }
  };
  const current = grace > 0 ? kept(record.secret) : undefined;
  const previousSecrets = [
    ...(current ? [{ secret: current, expiresAt }] : []),
    ...record.previousSecrets
      .filter((previous) => previous.expiresAt > now)
      .flatMap((previous) => {
        const resealed = kept(previous.secret);
        return resealed ? [{ secret: resealed, expiresAt: previous.expiresAt }] : [];
      }),
  ];
  const secret = generateSecret();
  const result = await ctx.models.eventWebhookEndpoints.updateOne(
    { _id: id, secret: record.secret },
    { $set: { secret: box.seal(secret), previousSecrets, updatedAt: now } },
  );
  if (result.matchedCount !== 1) throw notFound();
  return { secret, previousSecretExpiresAt: current ? expiresAt.toISOString() : null };
}

/** Enables a disabled endpoint: its failure count starts again, and what it had pending is due now. */
/**
 * Disables an endpoint by hand (its receiver is being moved, or misbehaves):
 * the state sustained failure leads to, with who did it as the reason. It
 * gets no new events; what was pending waits for `enable`.
 */
export async function disableEndpoint(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<EndpointView> {
  const now = ctx.now();
  const owned = { _id: id, ...visibleTo(principal) };
  // disabled already (by hand or by failure): when and why stay as they were
  const record =
    (await ctx.models.eventWebhookEndpoints
      .findOneAndUpdate(
        { ...owned, disabled: false },
        {
          $set: {
            disabled: true,
            disabledAt: now,
            disabledReason: `disabled by ${principal.kind} ${principal.id}`,
            updatedAt: now,
          },
        },
        { returnDocument: 'after' },
      )
      .lean<EndpointRecord>()) ??
    (await ctx.models.eventWebhookEndpoints.findOne(owned).lean<EndpointRecord>());
  if (!record) throw notFound();
  ctx.eventWebhooks.invalidate();
  return endpointView(record);
}

export async function enableEndpoint(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
): Promise<EndpointView> {
  const now = ctx.now();
  const record = await ctx.models.eventWebhookEndpoints
    .findOneAndUpdate(
      { _id: id, ...visibleTo(principal) },
      {
        $set: { disabled: false, consecutiveFailures: 0, updatedAt: now },
        $unset: { disabledAt: '', disabledReason: '', failingSince: '' },
      },
      { returnDocument: 'after' },
    )
    .lean<EndpointRecord>();
  if (!record) throw notFound();
  ctx.eventWebhooks.invalidate();
  await ctx.models.eventWebhookDeliveries.updateMany(
    { endpointId: id, status: 'pending' },
    { $set: { nextAttemptAt: now, firstAttemptAt: null } },
  );
  return endpointView(record);
}

function deliveryView(record: DeliveryRecord): DeliveryView {
  return {
    id: record._id,
    eventType: record.eventType,
    notificationId: record.notificationId,
    status: record.status,
    attempts: record.attempts,
    ...(record.status === 'pending' && record.nextAttemptAt
      ? { nextAttemptAt: record.nextAttemptAt.toISOString() }
      : {}),
    ...(record.deliveredAt ? { deliveredAt: record.deliveredAt.toISOString() } : {}),
    createdAt: record.createdAt.toISOString(),
    payload: JSON.parse(record.body) as unknown,
    log: record.log.map((entry) => ({
      at: entry.at.toISOString(),
      latencyMs: entry.latencyMs,
      ...(entry.statusCode !== undefined ? { statusCode: entry.statusCode } : {}),
      ...(entry.responseExcerpt !== undefined ? { responseExcerpt: entry.responseExcerpt } : {}),
      ...(entry.error !== undefined ? { error: entry.error } : {}),
    })),
  };
}

/** An endpoint's deliveries with their attempts log, newest first. */
export async function listDeliveries(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
  query: { limit: number; cursor?: number; status?: DeliveryRecord['status']; notificationId?: string },
): Promise<{ items: DeliveryView[]; nextCursor: string | null }> {
  await findVisible(ctx, principal, id);
  const records = await ctx.models.eventWebhookDeliveries
    .find({
      endpointId: id,
      ...(query.status ? { status: query.status } : {}),
      ...(query.notificationId ? { notificationId: query.notificationId } : {}),
      ...(query.cursor !== undefined ? { order: { $lt: query.cursor } } : {}),
    })
    .sort({ order: -1 })
    .limit(query.limit + 1)
    .lean<DeliveryRecord[]>();
  const items = records.slice(0, query.limit);
  return {
    items: items.map(deliveryView),
    nextCursor: records.length > query.limit ? String(items[items.length - 1]!.order) : null,
  };
}

/**
 * Sends a delivery again, whatever became of it: due now, with a fresh retry
 * window; the same webhook id, so a receiver that had it drops it.
 */
export async function replayDelivery(
  ctx: ServiceContext,
  principal: AuthenticatedUser,
  id: string,
  deliveryId: string,
): Promise<DeliveryView> {
  await findVisible(ctx, principal, id);
  const record = await ctx.models.eventWebhookDeliveries
    .findOneAndUpdate(
      { _id: deliveryId, endpointId: id },
      { $set: { status: 'pending', nextAttemptAt: ctx.now(), firstAttemptAt: null } },
      { returnDocument: 'after' },
    )
    .lean<DeliveryRecord>();
  if (!record) throw new NotFoundError('delivery_not_found', 'No such delivery');
  return deliveryView(record);
}
