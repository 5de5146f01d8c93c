import { Agent } from 'node:https';
import webpush, { WebPushError, type PushSubscription } from 'web-push';
import { type PushTarget } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import {
  checkedAddresses,
  guardedLookup,
  parseTarget,
  resolveWithDns,
  TargetRefusedError,
  type ResolveHost,
  type TargetPolicy,
} from '@herald/runtime/net';
import { classifyHttpStatus, networkCause, networkError } from '../deliveries/domain/classify';
import {
  parseRetryAfter,
  ProviderPermanentError,
  type ProviderTransientError,
} from '../deliveries/domain/delivery-errors';
import { type Provider, type PushJob, type SendResult } from './provider';

export interface VapidKeys {
  /** `mailto:` or `https:` URL the push service may contact (RFC 8292 `sub`) */
  subject: string;
  /** the application server's P-256 public key, base64url (65 bytes uncompressed) */
  publicKey: string;
  /** its private key, base64url (32 bytes) */
  privateKey: string;
}

export interface WebPushSettings {
  vapid: VapidKeys;
  timeoutMs: number;
  /** how long the push service keeps a message for an offline browser (the TTL header) */
  ttlSeconds: number;
  /**
   * Which push endpoints the worker may connect to. A subscription's endpoint
   * is written by a browser, so by whoever holds an inbox: without this, any
   * of them could aim the worker at an internal address (SSRF). Private,
   * loopback and link-local targets are refused unless allowed here.
   */
  targets: TargetPolicy;
  /** tests: an agent whose options (the fake push service's CA) the provider's own agent takes */
  agent?: Agent;
  /** tests: how host names resolve (default: the OS resolver) */
  resolveHost?: ResolveHost;
  logger?: Logger;
}

/** A push service's 404/410: the subscription expired or was revoked; it will never work again. */
export interface GoneSubscription {
  subscriptionId: string;
  userId: string;
  endpoint: string;
  status: number;
}

export type GoneReporter = (gone: GoneSubscription, correlation: { notificationId: string }) => Promise<void>;

/** What the browser's service worker receives (`event.data.json()`). */
export interface PushPayload {
  notificationId: string;
  title: string;
  body: string;
  category?: string;
}

/**
 * Push services take up to 4096 bytes of encrypted record (RFC 8291: 4078 of payload after the
 * padding delimiter and tag); the body is cut so the JSON stays well inside.
 */
const MAX_BODY_CHARS = 1_000;
const MAX_TITLE_CHARS = 200;

export function pushPayload(job: PushJob): PushPayload {
  return {
    notificationId: job.notificationId,
    title: cut(job.content.subject ?? job.content.text.split('\n', 1)[0]!, MAX_TITLE_CHARS),
    body: cut(job.content.text, MAX_BODY_CHARS),
    ...(job.category ? { category: job.category } : {}),
  };
}

function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

type Outcome =
  | { kind: 'accepted'; messageId: string }
  | { kind: 'gone'; status: number }
  | { kind: 'failed'; error: ProviderTransientError | ProviderPermanentError };

/**
 * Web Push (RFC 8030) with the `web-push` library: the payload encrypted for
 * each of the recipient's browser subscriptions (aes128gcm, RFC 8291) and
 * signed for with the VAPID keys (RFC 8292). One job reaches every
 * subscription the notification service put on it.
 *
 * - accepted by at least one → sent; the first one's message URL (the push
 *   service's `Location`) is the message id. Another subscription failing
 *   then is logged, not retried: retrying the job would push again to the
 *   browsers that already have it.
 * - 404/410 → the subscription is gone for good: reported (`reportGoneTo`),
 *   so the notification service deletes it; if every one is gone the send
 *   fails permanently (`push_subscription_gone`).
 * - otherwise the first failure, classified like any HTTP provider's (429,
 *   5xx, timeouts retried).
 *
 * A push service cannot be asked afterwards whether it took a message, so
 * there is no `findSent`: an unclear push is pushed again (at least once).
 */
export class WebPushProvider implements Provider<PushJob> {
  readonly name = 'webpush';
  private reportGone: GoneReporter = async () => undefined;

  /** every connection through it checks the addresses it connects to (DNS rebinding); closed with the provider's process */
  private readonly agent: Agent;

  constructor(private readonly settings: WebPushSettings) {
    // a given agent's options (a test's CA) with the guarded lookup in place of the resolver
    this.agent = new Agent({
      ...settings.agent?.options,
      keepAlive: true,
      lookup: guardedLookup(settings.targets),
    });
  }

  /** Where gone subscriptions are reported (the app publishes them as `push.subscription_gone`). */
  reportGoneTo(reporter: GoneReporter): void {
    this.reportGone = reporter;
  }

  async send(job: PushJob): Promise<SendResult> {
    const payload = JSON.stringify(pushPayload(job));
    const outcomes = await Promise.all(
      job.recipient.subscriptions.map((target) => this.sendTo(target, payload)),
    );
    const gone = job.recipient.subscriptions.flatMap((target, index) => {
      const outcome = outcomes[index]!;
      return outcome.kind === 'gone'
        ? [
            {
              subscriptionId: target.id,
              userId: job.recipient.userId,
              endpoint: target.endpoint,
              status: outcome.status,
            },
          ]
        : [];
    });
    await Promise.all(gone.map((subscription) => this.report(subscription, job)));

    const accepted = outcomes.find((outcome) => outcome.kind === 'accepted');
    const failures = outcomes.flatMap((outcome) => (outcome.kind === 'failed' ? [outcome.error] : []));
    if (accepted) {
      if (failures.length) {
        this.settings.logger?.warn(
          { notificationId: job.notificationId, failed: failures.map((error) => error.code) },
          'some push subscriptions failed; not retried, the others have the message',
        );
      }
      return { providerMessageId: accepted.messageId };
    }
    if (failures.length) throw failures[0]!;
    throw new ProviderPermanentError(
      'push_subscription_gone',
      'every push subscription of the recipient has expired or was revoked',
      String(gone[0]?.status ?? 410),
    );
  }

  private async sendTo(target: PushTarget, payload: string): Promise<Outcome> {
    const subscription: PushSubscription = { endpoint: target.endpoint, keys: target.keys };
    try {
      // refused before any request: an IP literal never reaches the agent's lookup
      await checkedAddresses(
        parseTarget(target.endpoint),
        this.settings.targets,
        this.settings.resolveHost ?? resolveWithDns,
      );
    } catch (error) {
      if (!(error instanceof TargetRefusedError)) throw error;
      return { kind: 'failed', error: refusedTarget(error) };
    }
    try {
      const answer = await webpush.sendNotification(subscription, payload, {
        vapidDetails: this.settings.vapid,
        TTL: this.settings.ttlSeconds,
        contentEncoding: 'aes128gcm',
        timeout: this.settings.timeoutMs,
        agent: this.agent,
      });
      const location = answer.headers.location;
      return { kind: 'accepted', messageId: typeof location === 'string' && location ? location : target.id };
    } catch (error) {
      if (error instanceof WebPushError) {
        if (error.statusCode === 404 || error.statusCode === 410)
          return { kind: 'gone', status: error.statusCode };
        const retryAfterMs =
          error.statusCode === 429 || error.statusCode === 503
            ? parseRetryAfter(error.headers['retry-after'])
            : undefined;
        return {
          kind: 'failed',
          error: classifyHttpStatus('the push service', error.statusCode, String(error.body ?? ''), {
            ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          }),
        };
      }
      if (error instanceof TargetRefusedError) return { kind: 'failed', error: refusedTarget(error) };
      const message = error instanceof Error ? error.message : String(error);
      const code = (error as { code?: unknown }).code;
      const kind = networkCause(code, message) ?? (/timeout/i.test(message) ? 'timeout' : undefined);
      if (kind) return { kind: 'failed', error: networkError('the push service', kind, error) };
      // web-push refused the subscription before any request (a malformed key): nothing to retry
      return {
        kind: 'failed',
        error: new ProviderPermanentError('invalid_push_subscription', message),
      };
    }
  }

  private async report(gone: GoneSubscription, job: PushJob): Promise<void> {
    try {
      await this.reportGone(gone, { notificationId: job.notificationId });
    } catch (error) {
      // The next push to it answers 410 again and is reported then.
      this.settings.logger?.warn(
        { err: error, subscriptionId: gone.subscriptionId },
        'could not report a gone push subscription',
      );
    }
  }
}

/**
 * Production without VAPID keys and without PUSH_PROVIDERS: push is simply not set up. A push job
 * (the notification service refuses the channel then, so none should come) fails permanently.
 */
export class PushNotConfigured implements Provider<PushJob> {
  readonly name = 'none';

  send(): Promise<SendResult> {
    return Promise.reject(
      new ProviderPermanentError('push_not_configured', 'Web Push is not configured (VAPID keys)'),
    );
  }
}

/** A subscription whose endpoint is an internal address: never sent to, never retried. */
function refusedTarget(error: TargetRefusedError): ProviderPermanentError {
  return new ProviderPermanentError('push_target_refused', `push endpoint refused: ${error.message}`);
}
