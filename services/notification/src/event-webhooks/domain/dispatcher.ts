import { randomUUID } from 'node:crypto';
import { EventWebhookHeaders } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { type EventWebhookSettings } from '../../config';
import {
  type AttemptEntry,
  type DeliveryModel,
  type DeliveryRecord,
  type EndpointModel,
  type EndpointRecord,
} from '../data/models';
import { postEvent, type PostOutcome } from './http-post';
import { SecretBoxError, secretBoxFor, type SecretBox } from './secret-box';
import { signatureHeader } from './signing';
import { TargetRefusedError, checkedAddresses, parseTarget, type ResolveHost } from '@herald/runtime/net';

export interface DispatcherDeps {
  endpoints: EndpointModel;
  deliveries: DeliveryModel;
  settings: EventWebhookSettings;
  resolveHost: ResolveHost;
  log: Logger;
  now: () => Date;
}

/** The error of an attempt that was not made: the endpoint's secret opens under none of the keys. */
const SECRET_UNREADABLE = 'secret_unreadable';

/** The wait after the n-th failed attempt: 30 s, 1 min, 2 min, … doubling, at most 6 h. */
export function backoffMs(failedAttempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, failedAttempts - 1), 6 * 3_600_000);
}

/** Attempts kept in a delivery's log (the newest). */
const LOG_LIMIT = 50;

/**
 * Sends recorded deliveries: polls MongoDB for due ones (the schedule lives
 * in the documents, never in a timer of this process), claims each under a
 * lease (any number of instances), signs and POSTs it, and records the
 * attempt and the next time.
 *
 * Order: for one endpoint and one notification only the oldest pending
 * delivery (the chain's head) is sent; event N+1 waits, whatever its own
 * time, until N was delivered or given up. Different notifications and
 * endpoints go in parallel.
 *
 * At-least-once: the delivery is marked delivered only after the receiver
 * answered 2xx; a crash in between sends it again (same webhook id) once
 * its lease runs out.
 */
export class EventWebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = true;
  private readonly owner = randomUUID();

  /** opens the stored secrets for signing: one per dispatcher, not one per delivery */
  private readonly box: SecretBox;

  constructor(private readonly deps: DispatcherDeps) {
    this.box = secretBoxFor(deps.settings);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.log.error({ err: error }, 'webhook dispatch pass failed'))
        .finally(() => {
          this.current = undefined;
          this.schedule(this.deps.settings.pollIntervalMs);
        });
    }, delayMs);
  }

  /** One pass: every due chain head, `concurrency` at a time. Tests call it after moving the clock. */
  async runOnce(): Promise<number> {
    const now = this.deps.now();
    const endpoints = await this.deps.endpoints.find({ disabled: false }).lean<EndpointRecord[]>();
    if (endpoints.length === 0) return 0;
    const byId = new Map(endpoints.map((endpoint) => [endpoint._id, endpoint]));
    const due = await this.deps.deliveries
      .find({
        status: 'pending',
        endpointId: { $in: [...byId.keys()] },
        nextAttemptAt: { $lte: now },
        $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }],
      })
      .sort({ order: 1 })
      .limit(this.deps.settings.batchSize)
      .lean<DeliveryRecord[]>();
    // One candidate per chain: the oldest due one (an older pending one not yet due still blocks it).
    const chains = new Map<string, DeliveryRecord>();
    for (const delivery of due) {
      const chain = `${delivery.endpointId}\n${delivery.notificationId}`;
      if (!chains.has(chain)) chains.set(chain, delivery);
    }
    const queue = [...chains.values()];
    let sent = 0;
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        sent += await this.runChain(next, byId.get(next.endpointId)!);
      }
    };
    await Promise.all(Array.from({ length: this.deps.settings.concurrency }, worker));
    return sent;
  }

  /** Sends a chain's head, and after each success the next one if it is due. */
  private async runChain(first: DeliveryRecord, endpoint: EndpointRecord): Promise<number> {
    let sent = 0;
    let delivery: DeliveryRecord | null = first;
    while (delivery) {
      if (!(await this.isHead(delivery))) return sent;
      const claimed = await this.claim(delivery);
      if (!claimed) return sent;
      sent += 1;
      if (!(await this.attempt(claimed, endpoint))) return sent;
      delivery = await this.deps.deliveries
        .findOne({
          endpointId: claimed.endpointId,
          notificationId: claimed.notificationId,
          status: 'pending',
          order: { $gt: claimed.order },
          nextAttemptAt: { $lte: this.deps.now() },
        })
        .sort({ order: 1 })
        .lean<DeliveryRecord>();
    }
    return sent;
  }

  private async isHead(delivery: DeliveryRecord): Promise<boolean> {
    const earlier = await this.deps.deliveries.exists({
      endpointId: delivery.endpointId,
      notificationId: delivery.notificationId,
      status: 'pending',
      order: { $lt: delivery.order },
    });
    return earlier === null;
  }

  private claim(delivery: DeliveryRecord): Promise<DeliveryRecord | null> {
    const now = this.deps.now();
    return this.deps.deliveries
      .findOneAndUpdate(
        {
          _id: delivery._id,
          status: 'pending',
          nextAttemptAt: { $lte: now },
          $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }],
        },
        {
          $set: { leaseUntil: new Date(now.getTime() + this.deps.settings.leaseMs), leaseOwner: this.owner },
        },
        { returnDocument: 'after' },
      )
      .lean<DeliveryRecord>()
      .exec();
  }

  /** One attempt; true when the receiver took it. */
  private async attempt(delivery: DeliveryRecord, endpoint: EndpointRecord): Promise<boolean> {
    const at = this.deps.now();
    const outcome = await this.post(delivery, endpoint, at);
    const ok = outcome.statusCode !== undefined && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const entry: AttemptEntry = { at, ...outcome };
    const log = this.deps.log.child({ webhookId: delivery._id, endpointId: endpoint._id });
    const fenced = { _id: delivery._id, leaseOwner: this.owner };
    const push = { log: { $each: [entry], $slice: -LOG_LIMIT } };
    if (ok) {
      await this.deps.deliveries.updateOne(fenced, {
        $set: { status: 'delivered', deliveredAt: at, leaseUntil: null, leaseOwner: null },
        $inc: { attempts: 1 },
        $push: push,
      });
      if (endpoint.consecutiveFailures > 0 || endpoint.failingSince)
        await this.deps.endpoints.updateOne(
          { _id: endpoint._id },
          { $set: { consecutiveFailures: 0, failingSince: null } },
        );
      endpoint.consecutiveFailures = 0;
      endpoint.failingSince = null;
      log.debug({ statusCode: outcome.statusCode }, 'webhook delivered');
      return true;
    }

    const firstAttemptAt = delivery.firstAttemptAt ?? at;
    const failed = delivery.attempts + 1;
    const givingUp = at.getTime() - firstAttemptAt.getTime() >= this.deps.settings.retryWindowMs;
    await this.deps.deliveries.updateOne(fenced, {
      $set: {
        status: givingUp ? 'failed' : 'pending',
        nextAttemptAt: givingUp ? null : new Date(at.getTime() + backoffMs(failed)),
        firstAttemptAt,
        leaseUntil: null,
        leaseOwner: null,
      },
      $inc: { attempts: 1 },
      $push: push,
    });
    if (outcome.error?.startsWith(SECRET_UNREADABLE)) {
      // Herald's keys, not the receiver, are at fault: the endpoint's failure count is left alone
      log.error(
        { error: outcome.error, attempt: failed, givingUp },
        'webhook not signed: its secret does not open',
      );
      return false;
    }
    log.info(
      { statusCode: outcome.statusCode, error: outcome.error, attempt: failed, givingUp },
      'webhook attempt failed',
    );
    await this.countFailure(endpoint, at);
    return false;
  }

  /**
   * The disable rule: an endpoint is disabled once it has failed
   * `disableAfterFailures` attempts in a row spanning at least
   * `disableAfterMs` with no success between (a receiver down for good, not
   * one bad minute). Its pending deliveries wait; enabling it resumes them.
   */
  private async countFailure(endpoint: EndpointRecord, at: Date): Promise<void> {
    const updated = await this.deps.endpoints
      .findOneAndUpdate(
        { _id: endpoint._id },
        { $inc: { consecutiveFailures: 1 } },
        { returnDocument: 'after' },
      )
      .lean<EndpointRecord>();
    if (!updated) return;
    if (!updated.failingSince) {
      // The first failure since the last success (`$min` would keep a null: null sorts before dates).
      await this.deps.endpoints.updateOne(
        { _id: endpoint._id, failingSince: null },
        { $set: { failingSince: at } },
      );
      updated.failingSince = at;
    }
    Object.assign(endpoint, {
      consecutiveFailures: updated.consecutiveFailures,
      failingSince: updated.failingSince,
    });
    const { disableAfterFailures, disableAfterMs } = this.deps.settings;
    if (
      !updated.disabled &&
      updated.failingSince &&
      updated.consecutiveFailures >= disableAfterFailures &&
      at.getTime() - updated.failingSince.getTime() >= disableAfterMs
    ) {
      await this.deps.endpoints.updateOne(
        { _id: endpoint._id, disabled: false },
        {
          $set: {
            disabled: true,
            disabledAt: at,
            disabledReason: `every attempt failed since ${updated.failingSince.toISOString()} (${updated.consecutiveFailures} in a row)`,
          },
        },
      );
      this.deps.log.warn({ endpointId: endpoint._id }, 'webhook endpoint disabled after sustained failure');
    }
  }

  /** Checks the target again (DNS now), signs with every secret still signing, and POSTs. */
  private async post(delivery: DeliveryRecord, endpoint: EndpointRecord, at: Date): Promise<PostOutcome> {
    let url: URL;
    let addresses: string[];
    try {
      url = parseTarget(endpoint.url);
      addresses = await checkedAddresses(url, this.deps.settings, this.deps.resolveHost);
    } catch (error) {
      if (!(error instanceof TargetRefusedError)) throw error;
      return { latencyMs: 0, error: `${error.code}: ${error.message}` };
    }
    const timestamp = Math.floor(at.getTime() / 1000);
    // stored encrypted (or plaintext, from before encryption): the signing key is the plaintext
    let secrets: string[];
    try {
      secrets = [
        endpoint.secret,
        ...endpoint.previousSecrets
          .filter((previous) => previous.expiresAt > at)
          .map((previous) => previous.secret),
      ].map((stored) => this.box.reveal(stored));
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
      // nothing is sent unsigned; the attempt is logged for the admin, and the pass goes on
      return { latencyMs: 0, error: `${SECRET_UNREADABLE}: ${error.message}` };
    }
    return postEvent(
      url,
      addresses,
      {
        [EventWebhookHeaders.id]: delivery._id,
        [EventWebhookHeaders.timestamp]: String(timestamp),
        [EventWebhookHeaders.signature]: signatureHeader(secrets, delivery._id, timestamp, delivery.body),
      },
      delivery.body,
      this.deps.settings.timeoutMs,
    );
  }
}
