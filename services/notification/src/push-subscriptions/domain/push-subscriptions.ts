import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import {
  MAX_PUSH_SUBSCRIPTIONS_PER_RECIPIENT,
  type PushSubscriptionGonePayload,
  type PushTarget,
} from '@herald/contracts';
import { ConflictError, NotFoundError, ServiceUnavailableError, UnprocessableError } from '@herald/runtime';
import { isDuplicateKeyError } from '@herald/runtime/mongo';
import { UnprocessableFieldsError } from '../../templates/domain/errors';
import { type ServiceContext } from '../../kernel/context';
import { type PushSubscriptionDocument } from '../data/push-subscription-model';

export interface NewPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushSubscriptionView {
  id: string;
  endpoint: string;
  createdAt: string;
}

const view = (document: PushSubscriptionDocument): PushSubscriptionView => ({
  id: document._id.toHexString(),
  endpoint: document.endpoint,
  createdAt: document.createdAt.toISOString(),
});

/** The VAPID public key browsers subscribe with; 503 while Web Push is not configured. */
export function vapidPublicKey(ctx: ServiceContext): { publicKey: string } {
  const publicKey = ctx.settings.vapidPublicKey;
  if (!publicKey) throw new ServiceUnavailableError('push_not_configured', 'Web Push is not configured');
  return { publicKey };
}

/**
 * Records a browser's subscription for `owner` (the caller: a user, or a
 * subscriber through their inbox token). The endpoint must be an https URL
 * of a public host (the worker will POST to it: no loopback, private or
 * link-local address, no credentials; plain http on loopback only when
 * PUSH_ALLOW_LOOPBACK_HTTP says so, for tests), the keys a real P-256 point
 * and a 16-byte secret. At most MAX_PUSH_SUBSCRIPTIONS_PER_RECIPIENT per
 * owner (409 past it); the same endpoint again replaces its keys, and one
 * another account had in this browser moves to the caller.
 */
export async function subscribe(
  ctx: ServiceContext,
  owner: string,
  input: NewPushSubscription,
): Promise<PushSubscriptionView> {
  vapidPublicKey(ctx);
  checkEndpoint(input.endpoint, ctx.settings.pushAllowLoopbackHttp);
  checkKeys(input.keys);
  const model = ctx.models.pushSubscriptions;
  const existing = await model.findOne({ endpoint: input.endpoint }).lean<PushSubscriptionDocument>();
  if (existing?.owner !== owner) {
    const count = await model.countDocuments({ owner });
    if (count >= MAX_PUSH_SUBSCRIPTIONS_PER_RECIPIENT) {
      throw new ConflictError(
        'push_subscription_limit',
        `At most ${MAX_PUSH_SUBSCRIPTIONS_PER_RECIPIENT} push subscriptions per recipient; delete one first`,
      );
    }
  }
  try {
    const saved = await model
      .findOneAndUpdate(
        { endpoint: input.endpoint },
        {
          $set: {
            owner,
            keys: input.keys,
            createdAt: existing?.owner === owner ? existing.createdAt : ctx.now(),
          },
        },
        { upsert: true, returnDocument: 'after' },
      )
      .lean<PushSubscriptionDocument>();
    return view(saved!);
  } catch (error) {
    // two first subscriptions of one endpoint at once: the other one won
    if (isDuplicateKeyError(error)) return subscribe(ctx, owner, input);
    throw error;
  }
}

/** The caller's own subscriptions, oldest first. */
export async function listSubscriptions(ctx: ServiceContext, owner: string): Promise<PushSubscriptionView[]> {
  const documents = await ctx.models.pushSubscriptions
    .find({ owner })
    .sort({ createdAt: 1 })
    .lean<PushSubscriptionDocument[]>();
  return documents.map(view);
}

/** Deletes the caller's subscription of this endpoint; another owner's is 404, as if absent. */
export async function unsubscribe(ctx: ServiceContext, owner: string, endpoint: string): Promise<void> {
  const { deletedCount } = await ctx.models.pushSubscriptions.deleteOne({ owner, endpoint });
  if (deletedCount === 0) throw new NotFoundError('push_subscription_not_found', 'No such push subscription');
}

/** What a push job carries: every subscription of the inbox owner, oldest first. */
export async function pushTargetsOf(ctx: ServiceContext, owner: string): Promise<PushTarget[]> {
  const documents = await ctx.models.pushSubscriptions
    .find({ owner })
    .sort({ createdAt: 1 })
    .limit(MAX_PUSH_SUBSCRIPTIONS_PER_RECIPIENT)
    .lean<PushSubscriptionDocument[]>();
  return documents.map((document) => ({
    id: document._id.toHexString(),
    endpoint: document.endpoint,
    keys: { p256dh: document.keys.p256dh, auth: document.keys.auth },
  }));
}

/** Of these inbox owners, those with at least one subscription (a broadcast skips push for the others). */
export async function ownersWithPushSubscriptions(
  ctx: ServiceContext,
  owners: string[],
): Promise<Set<string>> {
  if (!ctx.settings.vapidPublicKey || owners.length === 0) return new Set();
  const found = await ctx.models.pushSubscriptions.distinct('owner', { owner: { $in: owners } });
  return new Set(found.map(String));
}

/**
 * At send time: the push channel needs Web Push configured and an inbox owner with at least one
 * subscription; otherwise the request is refused (422), as SMS is without a phone number.
 */
export async function assertPushReachable(ctx: ServiceContext, owner: string | undefined): Promise<void> {
  if (!ctx.settings.vapidPublicKey) {
    throw new UnprocessableError('channel_unavailable', 'Web Push is not configured on this server');
  }
  if (!owner || !(await ctx.models.pushSubscriptions.exists({ owner }))) {
    throw new UnprocessableError('recipient_unreachable', 'The recipient has no push subscription');
  }
}

/**
 * The worker's `push.subscription_gone`: the push service will never take a message for it again.
 * Deleted only while it is still the same subscription (id and endpoint), so a repeat is harmless.
 */
export async function removeGoneSubscription(
  ctx: ServiceContext,
  gone: PushSubscriptionGonePayload,
): Promise<boolean> {
  if (!/^[0-9a-f]{24}$/.test(gone.subscriptionId)) return false;
  const { deletedCount } = await ctx.models.pushSubscriptions.deleteOne({
    _id: gone.subscriptionId,
    endpoint: gone.endpoint,
  });
  ctx.log.info(
    { subscriptionId: gone.subscriptionId, status: gone.status, deleted: deletedCount === 1 },
    'push subscription gone',
  );
  return deletedCount === 1;
}

function invalid(field: string, message: string): UnprocessableFieldsError {
  return new UnprocessableFieldsError('invalid_push_subscription', `${field}: ${message}`, [
    { field: `/body/${field}`, message },
  ]);
}

function checkEndpoint(endpoint: string, allowLoopbackHttp: boolean): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw invalid('endpoint', 'must be an absolute URL');
  }
  if (url.username || url.password) throw invalid('endpoint', 'must not carry credentials');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || isLoopback(host);
  if (url.protocol === 'http:' && allowLoopbackHttp && loopback) return;
  if (url.protocol !== 'https:') throw invalid('endpoint', 'must be an https URL');
  if (loopback && allowLoopbackHttp) return;
  if (loopback || isPrivateAddress(host) || host.endsWith('.localhost')) {
    throw invalid('endpoint', 'must be a push service on a public host');
  }
}

function isLoopback(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}

/** IP literals no push service lives at: private, link-local, unspecified (the worker must not be aimed inside). */
function isPrivateAddress(host: string): boolean {
  if (isIP(host) === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (isIP(host) === 6) return /^(::|fc|fd|fe80|::ffff:)/i.test(host);
  return false;
}

function checkKeys(keys: NewPushSubscription['keys']): void {
  const point = Buffer.from(keys.p256dh, 'base64url');
  try {
    if (point.length !== 65 || point[0] !== 4) throw new Error('not uncompressed');
    createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    throw invalid('keys/p256dh', 'must be an uncompressed P-256 public key');
  }
  if (Buffer.from(keys.auth, 'base64url').length !== 16) throw invalid('keys/auth', 'must be 16 bytes');
}
