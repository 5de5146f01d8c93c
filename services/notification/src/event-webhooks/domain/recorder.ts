import { createHash } from 'node:crypto';
import { type EventWebhookType } from '@herald/contracts';
import { type DeliveryModel, type DeliveryRecord, type EndpointModel } from '../data/models';
import { insertDeliveries, readRouting, type EndpointRouting } from '../data/queries';

/**
 * What an event is about, as far as routing it to endpoints goes: a
 * notification, or a workflow run (`kind: 'run'`, `notificationId` holding
 * the run's id). Deliveries are ordered per subject id.
 */
export interface EventSubject {
  notificationId: string;
  /** a workflow run: its body names `runId` itself, and its events are ordered by when they happened */
  kind?: 'run';
  /** who sent it: a user id or an API key id */
  senderId: string;
  category?: string;
  tenant?: string;
}

/** One event to send to every endpoint that wants it. */
export interface OutgoingEvent {
  type: EventWebhookType;
  /** unique per notification for this event: makes the webhook id stable across re-recordings */
  key: string;
  /** when it happened (ISO) */
  at: string;
  data: Record<string, unknown>;
}

export interface RecorderOptions {
  /** how long this instance trusts its list of endpoints; its own changes drop it at once */
  cacheMs: number;
  now: () => Date;
}

/** The owner of endpoints that see every notification: those an admin user registered. */
export const PLATFORM_OWNER = 'platform';
export const apiKeyOwner = (keyId: string) => `apikey:${keyId}`;

/** A webhook id is derived, never random: recording the same event again finds the same delivery. */
export function webhookIdOf(endpointId: string, notificationId: string, key: string): string {
  const hash = createHash('sha256').update(`${endpointId}\n${notificationId}\n${key}`).digest('base64url');
  return `msg_${hash.slice(0, 32)}`;
}

function wants(endpoint: EndpointRouting, subject: EventSubject, type: EventWebhookType): boolean {
  if (endpoint.disabled) return false;
  if (endpoint.owner !== PLATFORM_OWNER && endpoint.owner !== apiKeyOwner(subject.senderId)) return false;
  if (!endpoint.eventTypes.includes(type)) return false;
  if (endpoint.categories && !endpoint.categories.includes(subject.category ?? '')) return false;
  if (endpoint.tenants && !endpoint.tenants.includes(subject.tenant ?? '')) return false;
  return true;
}

/**
 * Turns events into durable deliveries, one per endpoint that wants each
 * (one `insertMany`), in the flow that changed the notification and before
 * that flow acknowledges its cause, so a crash loses none.
 *
 * The accept path calls this for every notification: the endpoints are
 * read once per `cacheMs` per instance, and with none that wants the event
 * nothing is written. An endpoint created on another instance is seen here
 * within `cacheMs`.
 */
export class EventWebhookRecorder {
  private cache: { until: number; routing: Promise<EndpointRouting[]> } | undefined;
  private sequence = 0;

  constructor(
    private readonly endpoints: EndpointModel,
    private readonly deliveries: DeliveryModel,
    private readonly options: RecorderOptions,
  ) {}

  /** Drops the cached endpoints: this instance changed one. */
  invalidate(): void {
    this.cache = undefined;
  }

  private routing(): Promise<EndpointRouting[]> {
    const now = this.options.now().getTime();
    if (this.cache && this.cache.until > now) return this.cache.routing;
    const routing = readRouting(this.endpoints);
    this.cache = { until: now + this.options.cacheMs, routing };
    routing.catch(() => {
      if (this.cache?.routing === routing) this.cache = undefined;
    });
    return routing;
  }

  /** The order of an event among those recorded: when, then which came first on this instance. */
  private nextOrder(at: Date): number {
    this.sequence = (this.sequence + 1) % 1000;
    return at.getTime() * 1000 + this.sequence;
  }

  record(subject: EventSubject, events: readonly OutgoingEvent[]): Promise<void> {
    return this.recordAll([{ subject, events }]);
  }

  /**
   * As `record`, with the subject and events built only when some endpoint exists: the accept
   * path records every notification's, and building them (dates as text, the statuses) for no
   * endpoint was 1–2 % of the service's CPU under load.
   */
  async recordBuilt(build: () => { subject: EventSubject; events: readonly OutgoingEvent[] }): Promise<void> {
    if ((await this.routing()).length === 0) return;
    await this.recordAll([build()]);
  }

  /** Several notifications' events in one write (read-all). */
  async recordAll(
    items: readonly { subject: EventSubject; events: readonly OutgoingEvent[] }[],
  ): Promise<void> {
    if (items.every((item) => item.events.length === 0)) return;
    const routing = await this.routing();
    if (routing.length === 0) return;
    const now = this.options.now();
    const records: DeliveryRecord[] = [];
    for (const { subject, events } of items) this.build(routing, subject, events, now, records);
    await insertDeliveries(this.deliveries, records);
  }

  private build(
    routing: readonly EndpointRouting[],
    subject: EventSubject,
    events: readonly OutgoingEvent[],
    now: Date,
    records: DeliveryRecord[],
  ): void {
    for (const event of events) {
      const body = JSON.stringify({
        type: event.type,
        timestamp: event.at,
        data: {
          ...(subject.kind === 'run' ? {} : { notificationId: subject.notificationId }),
          ...(subject.category ? { category: subject.category } : {}),
          ...(subject.tenant ? { tenant: subject.tenant } : {}),
          ...event.data,
        },
      });
      // a run's changes may be consumed out of order by competing consumers; their own time orders them
      const order = this.nextOrder(subject.kind === 'run' ? new Date(event.at) : now);
      for (const endpoint of routing) {
        if (!wants(endpoint, subject, event.type)) continue;
        records.push({
          _id: webhookIdOf(endpoint._id, subject.notificationId, event.key),
          endpointId: endpoint._id,
          notificationId: subject.notificationId,
          eventType: event.type,
          body,
          order,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          log: [],
          createdAt: now,
        });
      }
    }
  }
}
