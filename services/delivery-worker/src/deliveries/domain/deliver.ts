import { type DeliveryJobMessage, type DeliveryError, type DeliveryStatus } from '@herald/contracts';
import { type DeadLettered, type MessageContext, type RetryScheduled } from '@herald/amqp';
import { lazyChild, TransientError, type Logger } from '@herald/runtime';
import { type DeliveryKey, type DeliveryRecords } from '../data/delivery-records';
import {
  type EmailJob,
  type Provider,
  type PushJob,
  type SendResult,
  type SmsJob,
} from '../../providers/provider';
import {
  countsAgainstProvider,
  definitelyRefused,
  movesToNextProvider,
  type ProviderChain,
} from '../../failover/provider-chain';
import { deliveryErrorOf, ProviderTransientError } from './delivery-errors';
import { type DeliveryMetrics } from './delivery-metrics';
import { SmsDestinationRefused, type SmsDestinations } from './sms-destinations';
import { type StatusPublisher } from './status-publisher';
import { type TokenBucket } from '../../rate-limit/token-bucket';

export interface DeliveryDeps {
  records: DeliveryRecords;
  /** each channel's providers in order, each behind its circuit breaker */
  chains: { email: ProviderChain<EmailJob>; sms: ProviderChain<SmsJob>; push: ProviderChain<PushJob> };
  limiters: { email: TokenBucket; sms: TokenBucket; push: TokenBucket };
  /** where an SMS may go; checked before anything else, so a refused job costs no token and no send */
  smsDestinations: SmsDestinations;
  statuses: StatusPublisher;
  metrics: DeliveryMetrics;
  leaseMs: number;
  /**
   * An unclear send is looked up only once its last provider call started at least this long ago
   * (the provider's lag in showing what it took); the attempt waits for it, holding the lease.
   */
  lookupDelayMs: number;
}

type Job = DeliveryJobMessage['payload'];
type AnyProvider = Provider<Job>;
type Sent = { provider: string; providerMessageId: string };
type ChainOutcome =
  | { ok: true; provider: string; sent: SendResult }
  /** `refused`: the providers called (or picked) that definitely did not take the send */
  | { ok: false; error: unknown; refused: string[]; leaseLost?: boolean };

const DELIVERY_IN_PROGRESS = 'delivery_in_progress';
/** How often a job waiting on another worker's lease looks again. */
const LEASE_POLL_MS = 200;
/** A MongoDB blip right after the provider accepted must not reopen the window: try a few times. */
const RECORD_SENT_ATTEMPTS = 4;

/**
 * One delivery job, start to end: claim the idempotency record, send once,
 * record the provider's id, report every step as `delivery.status`.
 *
 * The send goes down the channel's provider chain (`sendThroughChain`); the
 * record names each provider before it is called (`unclear`) and forgets it
 * once it definitely refused. A provider may have taken the message without
 * the record saying so (a crash, a kill, a timeout after the request went
 * out): the next attempt finds it still named, and asks it (`reconcile`)
 * before sending anything; only what no provider took is sent again. A
 * provider that cannot be asked (SMTP) leaves the old at-least-once window:
 * that send may arrive twice. A takeover is logged as such.
 */
export class DeliveryService {
  /** what a failed attempt reported, for the retry / dead-letter hooks of the same delivery */
  private readonly failures = new WeakMap<MessageContext, DeliveryError>();
  /** the provider an attempt called last, for its retry / dead-letter metrics */
  private readonly lastProvider = new WeakMap<MessageContext, string>();

  constructor(private readonly deps: DeliveryDeps) {}

  async handle(message: DeliveryJobMessage, context: MessageContext): Promise<void> {
    const job = message.payload;
    const key: DeliveryKey = { notificationId: job.notificationId, channel: job.channel };
    const chain = this.chainFor(job);
    const log = lazyChild(context.log, {
      notificationId: job.notificationId,
      channel: job.channel,
      jobId: job.jobId,
    });

    if (job.channel === 'sms') this.refuseForbiddenDestination(job.recipient.phone, context, log);
    // The token first, the lease second: a long wait for the rate limit must not eat into the lease.
    await this.deps.limiters[job.channel].take();
    // The provider this send will try first: the record names it before it is called.
    const first = chain.firstAvailable();
    this.lastProvider.set(context, first.name);
    const claim = await this.claim(key, job.jobId, first.name, log, context.attempt === 1);
    if (claim.kind === 'already_sent') {
      // A redelivery after the send succeeded: report `sent` again (the crash may have come before
      // that publish; the notification service ignores a repeat) and ack without sending.
      log.info({ providerMessageId: claim.delivery.providerMessageId }, 'already sent; not sending again');
      this.deps.metrics.outcome(job.channel, claim.delivery.provider ?? first.name, 'already_sent');
      await this.publish(message, context, 'sent', {
        provider: claim.delivery.provider,
        providerMessageId: claim.delivery.providerMessageId,
      });
      return;
    }
    if (claim.takeover) {
      log.warn(
        'a previous send of this job stopped without a result; asking the provider before sending again',
      );
    }
    if (claim.unclear.length) {
      await this.waitForProviderToShow(claim.lastCallAt, log);
      const found = await this.reconcile(job, chain, claim.unclear, claim.since, context, log, key);
      if (found) {
        await recordSent(this.deps.records, key, found, log);
        this.deps.metrics.outcome(job.channel, found.provider, 'reconciled');
        await this.publish(message, context, 'sent', found);
        return;
      }
      // The claim stamped the call it precedes, but the wait and the lookup came in between: the
      // record says when the call really starts, so the next lookup waits long enough after it.
      await this.deps.records.startCall(key, first.name, []);
    }

    // The lease ends no earlier than this: it counts from the claim's write, which came after.
    const leaseEnd = claim.triedAt + this.deps.leaseMs;
    const outcome = await this.sendThroughChain(message, context, key, chain, first, log, leaseEnd);
    if (!outcome.ok) {
      if (!outcome.leaseLost) {
        await this.recordFailure(key, job, context, outcome.error, log, outcome.refused);
      }
      throw outcome.error;
    }
    const sent = { provider: outcome.provider, providerMessageId: outcome.sent.providerMessageId };
    // ↓ The unclear window: the provider has the message, our record does not yet say so.
    await recordSent(this.deps.records, key, sent, log);
    // ↑ Closed. A failure from here on only delays the `sent` status; a redelivery re-reports it.
    // debug: the `sent` status event carries the same facts to the notification's history and
    // /metrics counts sends; a line per send at info was a syscall per send.
    log.debug(sent, 'sent');
    this.deps.metrics.outcome(job.channel, sent.provider, 'sent');
    await this.publish(message, context, 'sent', sent);
  }

  /**
   * The chain from `first` on: each provider whose circuit lets the call through is tried in turn,
   * moving on only when the provider definitely did not take the send (it answered with a
   * refusal, or was never reached) or its circuit is open. A failure whose outcome is unclear (a
   * timeout, a dropped connection) or that is about the message itself ends the attempt: the
   * next attempt asks that provider first.
   */
  private async sendThroughChain(
    message: DeliveryJobMessage,
    context: MessageContext,
    key: DeliveryKey,
    chain: ProviderChain<Job>,
    first: AnyProvider,
    log: Logger,
    leaseEnd: number,
  ): Promise<ChainOutcome> {
    const job = message.payload;
    const refused: string[] = [];
    /** refusals the record still names as unclear: written with the next call's start, or at the end */
    let unwritten: string[] = [];
    let lastError: ProviderTransientError | undefined;
    const links = chain.links.slice(chain.links.findIndex((link) => link.provider === first));
    for (const { provider, breaker } of links) {
      if (!breaker.tryAcquire()) {
        this.deps.metrics.circuitRejected(job.channel, provider.name);
        if (provider === first) {
          refused.push(provider.name);
          unwritten.push(provider.name);
        }
        lastError ??= new ProviderTransientError(
          'provider_circuit_open',
          `${provider.name}'s circuit is open after repeated failures`,
        );
        continue;
      }
      if (Date.now() >= leaseEnd) {
        // The lease ran out while this job was in hand (a wait, a stalled process): another worker
        // may have taken the send over by now. Calling the provider could send it twice; the
        // retry claims the record again. The record is left as it is: it may be that worker's now.
        const lapsed = new ProviderTransientError(
          'send_lease_expired',
          'the send lease ran out before the provider was called; not sending',
        );
        this.failures.set(context, deliveryErrorOf(lapsed));
        log.warn({ provider: provider.name }, 'send lease ran out before the call; not sending');
        return { ok: false, error: lapsed, refused, leaseLost: true };
      }
      if (provider !== first) {
        // The record names this provider before it is called, and forgets the ones that refused.
        await this.deps.records.startCall(key, provider.name, unwritten);
        unwritten = [];
      }
      this.lastProvider.set(context, provider.name);
      // `sending` only when it tells something `sent` will not: a retry, or a move to another
      // provider (with why the last one failed). A first attempt's first call goes straight from
      // `queued` to its outcome: one status event, one status write and one notification event
      // less per send, the common case.
      const reportSending = context.attempt > 1 || provider !== first;
      const [sending, sent] = await Promise.allSettled([
        reportSending
          ? this.publish(message, context, 'sending', {
              provider: provider.name,
              ...(lastError && provider !== first ? { error: deliveryErrorOf(lastError) } : {}),
            })
          : undefined,
        this.send(job, provider),
      ]);
      if (sending.status === 'rejected') log.warn({ err: sending.reason }, 'could not report sending');
      if (sent.status === 'fulfilled') {
        breaker.success();
        return { ok: true, provider: provider.name, sent: sent.value };
      }
      const error: unknown = sent.reason;
      if (countsAgainstProvider(error)) breaker.failure();
      else breaker.success();
      this.deps.metrics.providerFailure(job.channel, provider.name, deliveryErrorOf(error).code);
      if (definitelyRefused(error)) refused.push(provider.name);
      if (!movesToNextProvider(error)) return { ok: false, error, refused };
      unwritten.push(provider.name);
      lastError = error as ProviderTransientError;
      log.warn(
        { provider: provider.name, error: deliveryErrorOf(error) },
        'provider refused; trying the next',
      );
    }
    const error =
      lastError ??
      new ProviderTransientError('provider_circuit_open', `every ${job.channel} provider's circuit is open`);
    return { ok: false, error, refused };
  }

  /**
   * Asks each provider the record names as unclear whether it took the send. The first that did
   * makes the send done (no resend). One that cannot be asked (SMTP) is logged: the send goes
   * again, at least once. One that cannot answer now fails the attempt (transient), so nothing is
   * sent before it can.
   */
  private async reconcile(
    job: Job,
    chain: ProviderChain<Job>,
    unclear: string[],
    since: Date,
    context: MessageContext,
    log: Logger,
    key: DeliveryKey,
  ): Promise<Sent | undefined> {
    for (const name of unclear) {
      const provider = chain.find(name);
      if (!provider?.findSent) {
        this.deps.metrics.reconciliation(job.channel, name, 'unknowable');
        log.warn(
          { provider: name },
          provider
            ? 'this provider cannot be asked whether it took an earlier send; sending again (at-least-once)'
            : 'an earlier send went to a provider no longer configured; sending again (at-least-once)',
        );
        continue;
      }
      let answer;
      try {
        answer = await provider.findSent(job, { since });
      } catch (error) {
        this.deps.metrics.reconciliation(job.channel, name, 'error');
        const failure = new ProviderTransientError(
          'reconciliation_failed',
          `could not ask ${name} whether it took an earlier send`,
          undefined,
          { cause: error },
        );
        await this.recordFailure(key, job, context, failure, log, []);
        throw failure;
      }
      this.deps.metrics.reconciliation(job.channel, name, answer.kind);
      if (answer.kind === 'accepted') {
        log.info(
          { provider: name, providerMessageId: answer.providerMessageId },
          'the provider had taken the earlier send; not sending again',
        );
        return { provider: name, providerMessageId: answer.providerMessageId };
      }
    }
    return undefined;
  }

  /**
   * A provider shows a message it took only after a lag (Mailgun's events, SendGrid's activity:
   * seconds to minutes), and a call that timed out may have reached it late. Asked too early, it
   * says "not found" about a message it has, and the send goes twice. So the lookup waits until the
   * latest unclear call started `lookupDelayMs` ago, holding the lease (the configuration keeps the
   * wait, the lookup and the send inside it). A takeover after a crash has waited out the lease
   * already, which is longer.
   */
  private async waitForProviderToShow(lastCallAt: Date | undefined, log: Logger): Promise<void> {
    if (!lastCallAt) return;
    const waitMs = Math.min(
      this.deps.lookupDelayMs,
      lastCallAt.getTime() + this.deps.lookupDelayMs - Date.now(),
    );
    if (waitMs <= 0) return;
    log.info({ waitMs }, 'an earlier send is unclear; waiting for the provider to show it before asking');
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** The consumer will retry after `outcome.delayMs`: say so, with the attempt and when. */
  async onRetryScheduled(
    outcome: RetryScheduled,
    message: DeliveryJobMessage,
    context: MessageContext,
  ): Promise<void> {
    this.deps.metrics.outcome(
      message.payload.channel,
      this.providerNameOf(message.payload, context),
      'retry',
    );
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
    this.deps.metrics.outcome(job.channel, this.providerNameOf(job, context), exhausted ? 'dead' : 'failed');
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

  private chainFor(job: Job): ProviderChain<Job> {
    return this.deps.chains[job.channel] as ProviderChain<Job>;
  }

  private providerNameOf(job: Job, context: MessageContext): string {
    return this.lastProvider.get(context) ?? this.chainFor(job).primary.name;
  }

  /** The provider call, timed and counted for /metrics. */
  private async send(job: Job, provider: AnyProvider): Promise<SendResult> {
    const started = process.hrtime.bigint();
    let result: 'accepted' | 'error' = 'error';
    this.deps.metrics.providerAttempt(job.channel, provider.name);
    try {
      const sent = await provider.send(job);
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
      const triedAt = Date.now();
      const claim =
        firstAttempt && look === 0
          ? await this.deps.records.claimNew(key, jobId, providerName, this.deps.leaseMs)
          : await this.deps.records.claim(key, jobId, providerName, this.deps.leaseMs);
      if (claim.kind === 'claimed') return { ...claim, triedAt };
      if (claim.kind === 'already_sent') return claim;
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
    refused: string[],
  ): Promise<void> {
    const error = deliveryErrorOf(failure);
    this.failures.set(context, error);
    if (failure instanceof ProviderTransientError && failure.retryAfterMs) {
      this.deps.limiters[job.channel].pauseFor(failure.retryAfterMs);
    }
    log.warn({ error, attempt: context.attempt }, 'send failed');
    await this.deps.records.markFailedAttempt(key, error, refused);
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

async function recordSent(records: DeliveryRecords, key: DeliveryKey, sent: Sent, log: Logger) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await records.markSent(key, sent.provider, sent.providerMessageId);
      return;
    } catch (error) {
      if (attempt >= RECORD_SENT_ATTEMPTS) throw error;
      log.warn({ err: error, attempt }, 'could not record the send yet; trying again');
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}
