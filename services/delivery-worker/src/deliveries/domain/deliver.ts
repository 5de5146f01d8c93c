import { type DeliveryJobMessage, type DeliveryError, type DeliveryStatus } from '@herald/contracts';
import { type DeadLettered, type MessageContext, type RetryScheduled } from '@herald/amqp';
import { TransientError, type Logger } from '@herald/runtime';
import { type DeliveryKey, type DeliveryRecords } from '../data/delivery-records';
import { type Providers, type SendResult } from '../../providers/provider';
import { deliveryErrorOf, ProviderTransientError } from './delivery-errors';
import { type DeliveryMetrics } from './delivery-metrics';
import { SmsDestinationRefused, type SmsDestinations } from './sms-destinations';
import { type StatusPublisher } from './status-publisher';
import { type TokenBucket } from '../../rate-limit/token-bucket';

export interface DeliveryDeps {
  records: DeliveryRecords;
  providers: Providers;
  limiters: { email: TokenBucket; sms: TokenBucket };
  /** where an SMS may go; checked before anything else, so a refused job costs no token and no send */
  smsDestinations: SmsDestinations;
  statuses: StatusPublisher;
  metrics: DeliveryMetrics;
  leaseMs: number;
}

type Job = DeliveryJobMessage['payload'];

const DELIVERY_IN_PROGRESS = 'delivery_in_progress';
/** How often a job waiting on another worker's lease looks again. */
const LEASE_POLL_MS = 200;
/** A MongoDB blip right after the provider accepted must not reopen the window: try a few times. */
const RECORD_SENT_ATTEMPTS = 4;

/**
 * One delivery job, start to end: claim the idempotency record, send once,
 * record the provider's id, report every step as `delivery.status`.
 *
 * The at-least-once window: the provider has accepted the message but
 * `markSent` has not reached MongoDB (a crash, a kill, a lost connection in
 * between). The record then stays `sending`; when its lease runs out the
 * redelivered job sends again, and the recipient gets two copies. Neither
 * Mailgun nor Twilio takes an idempotency key for a send, so the window is
 * kept small instead: the lease is written before the call, nothing but
 * the provider call and the wait for the next batched write (one MongoDB
 * round trip, see Batcher) sits between the lease and `markSent`, and
 * the status publishes run beside or after it. A takeover is logged as such.
 */
export class DeliveryService {
  /** what a failed attempt reported, for the retry / dead-letter hooks of the same delivery */
  private readonly failures = new WeakMap<MessageContext, DeliveryError>();

  constructor(private readonly deps: DeliveryDeps) {}

  async handle(message: DeliveryJobMessage, context: MessageContext): Promise<void> {
    const job = message.payload;
    const key: DeliveryKey = { notificationId: job.notificationId, channel: job.channel };
    const provider = this.providerFor(job);
    const log = lazyChild(context.log, {
      notificationId: job.notificationId,
      channel: job.channel,
      jobId: job.jobId,
    });

    if (job.channel === 'sms') this.refuseForbiddenDestination(job.recipient.phone, context, log);
    // The token first, the lease second: a long wait for the rate limit must not eat into the lease.
    await this.deps.limiters[job.channel].take();
    const claim = await this.claim(key, job.jobId, provider.name, log, context.attempt === 1);
    if (claim.kind === 'already_sent') {
      // A redelivery after the send succeeded: report `sent` again (the crash may have come before
      // that publish; the notification service ignores a repeat) and ack without sending.
      log.info({ providerMessageId: claim.delivery.providerMessageId }, 'already sent; not sending again');
      this.deps.metrics.outcome(job.channel, provider.name, 'already_sent');
      await this.publish(message, context, 'sent', {
        provider: claim.delivery.provider,
        providerMessageId: claim.delivery.providerMessageId,
      });
      return;
    }
    if (claim.takeover) {
      log.warn('a previous send of this job stopped without a result; sending again (at-least-once)');
    }

    const [sending, sent] = await Promise.allSettled([
      this.publish(message, context, 'sending', { provider: provider.name }),
      this.send(job),
    ]);
    if (sent.status === 'rejected') {
      await this.recordFailure(key, job, context, sent.reason, log);
      throw sent.reason;
    }
    // ↓ The at-least-once window: the provider has the message, our record does not yet say so.
    await recordSent(this.deps.records, key, sent.value.providerMessageId, log);
    // ↑ Closed. A failure from here on only delays the `sent` status; a redelivery re-reports it.
    if (sending.status === 'rejected') log.warn({ err: sending.reason }, 'could not report sending');
    // debug: the `sent` status event carries the same facts to the notification's history and
    // /metrics counts sends; a line per send at info was a syscall per send.
    log.debug({ providerMessageId: sent.value.providerMessageId, provider: provider.name }, 'sent');
    this.deps.metrics.outcome(job.channel, provider.name, 'sent');
    await this.publish(message, context, 'sent', {
      provider: provider.name,
      providerMessageId: sent.value.providerMessageId,
    });
  }

  /** The consumer will retry after `outcome.delayMs`: say so, with the attempt and when. */
  async onRetryScheduled(
    outcome: RetryScheduled,
    message: DeliveryJobMessage,
    context: MessageContext,
  ): Promise<void> {
    this.deps.metrics.outcome(message.payload.channel, this.providerFor(message.payload).name, 'retry');
    await this.publish(message, context, 'retrying', {
      // stamped at the moment the retry was scheduled, so `nextAttemptAt - at` is exactly the wait
      at: new Date(outcome.nextAttemptAt.getTime() - outcome.delayMs).toISOString(),
      nextAttemptAt: outcome.nextAttemptAt.toISOString(),
      error: this.reportedError(context, outcome.error, false),
    });
  }

  /** A permanent failure (`failed`) or exhausted retries (`dead`); the job is now in the DLQ. */
  async onDeadLettered(
    outcome: DeadLettered,
    message: DeliveryJobMessage | undefined,
    context: MessageContext,
  ): Promise<void> {
    if (!message) {
      context.log.error(
        { error: outcome.error },
        'an invalid delivery job went to the DLQ; no status can be reported',
      );
      return;
    }
    const job = message.payload;
    const exhausted = outcome.reason === 'retries_exhausted';
    this.deps.metrics.outcome(job.channel, this.providerFor(job).name, exhausted ? 'dead' : 'failed');
    const error = this.reportedError(context, outcome.error, !exhausted);
    if (exhausted) {
      await this.deps.records.markDead({ notificationId: job.notificationId, channel: job.channel });
      await this.publish(message, context, 'dead', { error });
      return;
    }
    await this.publish(message, context, 'failed', { error: { ...error, permanent: true } });
  }

  /**
   * The provider's failure as recorded by `handle`; a failure of ours (MongoDB, a bug) is reported
   * generically, since its text is internal and the status travels to users.
   */
  private reportedError(
    context: MessageContext,
    error: { code: string; message: string },
    permanent: boolean,
  ): DeliveryError {
    const recorded = this.failures.get(context);
    if (recorded) return recorded;
    if (error.code === DELIVERY_IN_PROGRESS) return { ...error, permanent };
    return { code: 'internal_error', message: 'The worker failed before the provider answered', permanent };
  }

  /**
   * An SMS to an invalid number or a country outside SMS_ALLOWED_COUNTRIES fails permanently here
   * (`failed`, then the DLQ): no provider call, no claim, so no delivery record, and no `sending`.
   */
  private refuseForbiddenDestination(phone: string, context: MessageContext, log: Logger): void {
    try {
      this.deps.smsDestinations.check(phone);
    } catch (error) {
      if (!(error instanceof SmsDestinationRefused)) throw error;
      const refused = deliveryErrorOf(error);
      this.failures.set(context, refused);
      log.warn({ error: refused }, 'SMS destination refused; not sending');
      throw error;
    }
  }

  private providerFor(job: Job): { name: string } {
    return this.deps.providers[job.channel];
  }

  /** The provider call, timed for /metrics. */
  private async send(job: Job): Promise<SendResult> {
    const started = process.hrtime.bigint();
    const provider = this.providerFor(job);
    let result: 'accepted' | 'error' = 'error';
    try {
      const sent =
        job.channel === 'email'
          ? await this.deps.providers.email.send(job)
          : await this.deps.providers.sms.send(job);
      result = 'accepted';
      return sent;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.deps.metrics.sendDuration(job.channel, provider.name, result, seconds);
    }
  }

  /**
   * Claims the record, waiting out another worker's lease (bounded by one lease) instead of spending
   * a retry. A first attempt most likely meets no record yet: it tries the cheap, batched insert first.
   */
  private async claim(
    key: DeliveryKey,
    jobId: string,
    providerName: string,
    log: Logger,
    firstAttempt: boolean,
  ) {
    const deadline = Date.now() + this.deps.leaseMs + LEASE_POLL_MS;
    for (let look = 0; ; look += 1) {
      const claim =
        firstAttempt && look === 0
          ? await this.deps.records.claimNew(key, jobId, providerName, this.deps.leaseMs)
          : await this.deps.records.claim(key, jobId, providerName, this.deps.leaseMs);
      if (claim.kind !== 'leased') return claim;
      if (Date.now() > deadline) {
        throw new TransientError(DELIVERY_IN_PROGRESS, 'Another worker holds this delivery');
      }
      log.debug({ leaseUntil: claim.leaseUntil }, 'another worker is sending this job; waiting');
      await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
    }
  }

  private async recordFailure(
    key: DeliveryKey,
    job: Job,
    context: MessageContext,
    failure: unknown,
    log: Logger,
  ): Promise<void> {
    const error = deliveryErrorOf(failure);
    this.failures.set(context, error);
    if (failure instanceof ProviderTransientError && failure.retryAfterMs) {
      this.deps.limiters[job.channel].pauseFor(failure.retryAfterMs);
    }
    log.warn({ error, attempt: context.attempt }, 'send failed');
    await this.deps.records.markFailedAttempt(key, error);
  }

  private async publish(
    message: DeliveryJobMessage,
    context: MessageContext,
    status: DeliveryStatus,
    extra: {
      at?: string;
      provider?: string;
      providerMessageId?: string;
      nextAttemptAt?: string;
      error?: DeliveryError;
    },
  ): Promise<void> {
    const job = message.payload;
    await this.deps.statuses.publish(
      {
        notificationId: job.notificationId,
        channel: job.channel,
        status,
        attempt: context.attempt,
        ...Object.fromEntries(Object.entries(extra).filter(([, value]) => value !== undefined)),
      },
      message.correlationId,
    );
  }
}

async function recordSent(
  records: DeliveryRecords,
  key: DeliveryKey,
  providerMessageId: string,
  log: Logger,
) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await records.markSent(key, providerMessageId);
      return;
    } catch (error) {
      if (attempt >= RECORD_SENT_ATTEMPTS) throw error;
      log.warn({ err: error, attempt }, 'could not record the send yet; trying again');
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * A child logger made on first use. A pino child is not free (its bindings are serialised, its
 * redaction set up), and most jobs log nothing at the configured level: a call at a disabled
 * level makes no child.
 */
function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  const noop = () => undefined;
  return new Proxy(parent, {
    get(_, property) {
      if (typeof property === 'string' && LEVELS.has(property) && !parent.isLevelEnabled(property)) {
        return noop;
      }
      child ??= parent.child(bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
    },
  });
}
