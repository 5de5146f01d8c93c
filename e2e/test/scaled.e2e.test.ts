// Many instances of everything behind the real nginx: two notification services, three
// workers, two realtime servers (what `pnpm start --scale notification=2,delivery-worker=3,realtime=2`
// runs). An application sends 2,000 notifications (in-app, plus email or SMS) to 20 subscribers
// through the gateway, and one instance of each scaled kind is SIGKILLed midway. Every email and
// SMS reaches the fakes exactly once, every subscriber's socket gets each of its notifications
// live exactly once (or, for what was in flight on the killed realtime server, through catch-up
// after reconnecting), and nobody gets anyone else's.
import { randomBytes } from 'node:crypto';
import { SOCKET_IO_PATH, ServerEvents } from '@herald/contracts';
import { field, type RecordedRequest } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { io, type Socket } from 'socket.io-client';
import { expectStatus, gatewayClient, type GatewayClient } from './support/http';
import { requireNginx, startE2eStack, type E2eStack } from './support/stack';

jest.setTimeout(300_000);
requireNginx();

const run = randomBytes(4).toString('hex');
const TOTAL = 2_000;
const SUBSCRIBERS = 20;
const CONCURRENCY = 16;
/** the kills happen once this many sends were accepted */
const KILL_AFTER = 700;
const EVENTUALLY = { timeoutMs: 180_000, intervalMs: 250 };
const marker = (index: number) => `[${run}:${index}]`;
const MARKER = new RegExp(`\\[${run}:(\\d+)\\]`);

interface NotificationNew {
  notification: { id: string; createdAt: string; body: string };
  catchUp?: boolean;
}

/**
 * One subscriber's inbox client, as the documented protocol asks: it connects to a realtime
 * server with its inbox token and `since` (the newest createdAt it has, less a margin for
 * notifications created out of order by two notification services), reconnects elsewhere when
 * its server dies, and dedupes by id.
 */
class InboxClient {
  readonly live = new Map<string, number>();
  readonly replayed = new Set<string>();
  readonly bodies = new Map<string, string>();
  newest: string | undefined;
  reconnects = 0;
  private socket: Socket | undefined;

  constructor(
    readonly subscriberId: string,
    private readonly token: string,
  ) {}

  connect(url: string): Promise<void> {
    const since = this.newest ? new Date(Date.parse(this.newest) - 5_000).toISOString() : undefined;
    const socket = io(url, {
      path: SOCKET_IO_PATH,
      auth: since ? { token: this.token, since } : { token: this.token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.socket = socket;
    socket.on(ServerEvents.notificationNew, (payload: NotificationNew) => {
      const { id, createdAt, body } = payload.notification;
      if (payload.catchUp) this.replayed.add(id);
      else this.live.set(id, (this.live.get(id) ?? 0) + 1);
      this.bodies.set(id, body);
      if (!this.newest || createdAt > this.newest) this.newest = createdAt;
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  }

  onDisconnect(handler: () => void): void {
    this.socket?.once('disconnect', handler);
  }

  received(): Set<string> {
    return new Set([...this.live.keys(), ...this.replayed]);
  }

  close(): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
  }
}

describe('Herald scaled out: 2 notification, 3 workers, 2 realtime, one of each killed midway', () => {
  let stack: E2eStack;
  let api: GatewayClient;
  const clients: InboxClient[] = [];

  beforeAll(async () => {
    stack = await startE2eStack({
      scale: { notification: 2, 'delivery-worker': 3, realtime: 2 },
      env: {
        // one application sending 2,000 in a burst: its key's rate and the send quotas are not what this tests
        API_KEY_RATE_LIMIT_PER_SECOND: '100000',
        QUOTA_IN_APP_PER_MINUTE: '0',
        QUOTA_IN_APP_PER_DAY: '0',
        QUOTA_EMAIL_PER_MINUTE: '0',
        QUOTA_EMAIL_PER_DAY: '0',
        QUOTA_SMS_PER_MINUTE: '0',
        QUOTA_SMS_PER_DAY: '0',
      },
    });
    api = gatewayClient(stack.gatewayUrl);
  }, 180_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await stack?.stop();
  }, 60_000);

  it('delivers each of 2,000 notifications exactly once while instances die', async () => {
    const instancesOf = (service: string) => stack.instances.filter((i) => i.service === service);
    expect(instancesOf('notification')).toHaveLength(2);
    expect(instancesOf('delivery-worker')).toHaveLength(3);
    expect(instancesOf('realtime')).toHaveLength(2);
    const [realtime1, realtime2] = instancesOf('realtime');

    const admin = expectStatus(
      await api.post<{ accessToken: string }>('/api/v1/auth/login', stack.admin),
      200,
    ).body.accessToken;
    const key = expectStatus(
      await api.post<{ key: string }>(
        '/api/v1/api-keys',
        { name: `scaled ${run}`, scopes: ['notifications:send', 'subscribers:write'] },
        { token: admin },
      ),
      201,
    ).body.key;

    // 20 subscribers with email and phone; half of them listen on each realtime server
    const subscribers = Array.from({ length: SUBSCRIBERS }, (_, index) => ({
      id: `scaled-${run}-${index}`,
      email: `scaled-${run}-${index}@example.com`,
      phone: `+1415555${String(1000 + index)}`,
    }));
    for (const [index, subscriber] of subscribers.entries()) {
      expectStatus(
        await api.request('PUT', `/api/v1/subscribers/${subscriber.id}`, {
          token: key,
          body: { email: subscriber.email, phone: subscriber.phone, name: `S${index}` },
        }),
        201,
      );
      const token = expectStatus(
        await api.post<{ token: string }>(`/api/v1/subscribers/${subscriber.id}/inbox-token`, undefined, {
          token: key,
        }),
        200,
      ).body.token;
      const client = new InboxClient(subscriber.id, token);
      await client.connect(index % 2 === 0 ? realtime1!.url : realtime2!.url);
      clients.push(client);
    }
    // a client whose server dies reconnects to the one still running, and catches up
    for (const client of clients.filter((_, index) => index % 2 === 1)) {
      client.onDisconnect(() => {
        client.reconnects += 1;
        void waitFor(
          () =>
            client
              .connect(realtime1!.url)
              .then(() => true)
              .catch(() => false),
          { timeoutMs: 60_000, intervalMs: 500, description: 'a reconnect' },
        );
      });
    }
    // both notification services know every subscriber (auth's events reach each)
    await waitFor(
      async () => {
        const answers = await Promise.all(
          instancesOf('notification').map((instance) =>
            fetch(`${instance.url}/api/v1/notifications`, {
              method: 'POST',
              headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
              body: JSON.stringify({
                recipient: { subscriberId: subscribers.at(-1)!.id },
                channels: ['in_app'],
                title: 'warm-up',
                body: `warm-up ${run}`,
              }),
            }).then((response) => response.status),
          ),
        );
        return answers.every((status) => status === 202);
      },
      { ...EVENTUALLY, description: 'every notification instance to accept a send to the subscribers' },
    );

    // what was sent, by index: recipient and channel
    const plan = Array.from({ length: TOTAL }, (_, index) => ({
      subscriber: subscribers[index % SUBSCRIBERS]!,
      channel: index % 2 === 0 ? ('email' as const) : ('sms' as const),
    }));
    const ids = new Map<number, string>();
    let accepted = 0;
    let killed: Promise<void> | undefined;
    let retries = 0;
    const send = async (index: number) => {
      const { subscriber, channel } = plan[index]!;
      // a client retries what failed in transit with the same Idempotency-Key: never a second notification
      for (let attempt = 0; ; attempt += 1) {
        const response = await api
          .post<{ id: string }>(
            '/api/v1/notifications',
            {
              recipient: { subscriberId: subscriber.id },
              channels: ['in_app', channel],
              title: `Order ${index}`,
              body: `Your order ${marker(index)} shipped`,
            },
            { token: key, headers: { 'idempotency-key': `${run}-${index}` } },
          )
          .catch(() => undefined);
        if (response && (response.status === 202 || response.status === 200)) {
          ids.set(index, response.body.id);
          break;
        }
        if (response && response.status < 500) expectStatus(response, 202);
        retries += 1;
        if (attempt > 50) throw new Error(`send ${index} kept failing: ${response?.status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      accepted += 1;
      if (accepted === KILL_AFTER) {
        // the second instance of each scaled kind; the first ones are what the others call directly
        killed = Promise.all(
          [instancesOf('notification')[1]!, instancesOf('delivery-worker')[1]!, realtime2!].map((i) =>
            i.kill(),
          ),
        ).then(() => undefined);
      }
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) await send(next++);
      }),
    );
    await killed;
    expect(ids.size).toBe(TOTAL);
    // the same key always answered the same notification
    expect(new Set(ids.values()).size).toBe(TOTAL);

    // every email and SMS at the fakes, each exactly once
    const countByMarker = (messages: RecordedRequest[], text: (m: RecordedRequest) => string | undefined) => {
      const counts = new Map<number, number>();
      for (const message of messages) {
        const match = MARKER.exec(text(message) ?? '');
        if (match) counts.set(Number(match[1]), (counts.get(Number(match[1])) ?? 0) + 1);
      }
      return counts;
    };
    const emailIndexes = plan.flatMap((p, index) => (p.channel === 'email' ? [index] : []));
    const smsIndexes = plan.flatMap((p, index) => (p.channel === 'sms' ? [index] : []));
    await waitFor(
      () =>
        countByMarker(stack.mailgun.accepted, (m) => field(m, 'text')).size >= emailIndexes.length &&
        countByMarker(stack.twilio.accepted, (m) => field(m, 'Body')).size >= smsIndexes.length,
      { ...EVENTUALLY, description: 'every email and SMS to reach the fakes' },
    );
    const emails = countByMarker(stack.mailgun.accepted, (m) => field(m, 'text'));
    const sms = countByMarker(stack.twilio.accepted, (m) => field(m, 'Body'));
    expect(emailIndexes.filter((index) => emails.get(index) !== 1)).toEqual([]);
    expect(smsIndexes.filter((index) => sms.get(index) !== 1)).toEqual([]);
    // to the right addresses
    for (const message of stack.mailgun.accepted.filter((m) => MARKER.test(field(m, 'text') ?? ''))) {
      const index = Number(MARKER.exec(field(message, 'text')!)![1]);
      expect(message.recipient).toContain(plan[index]!.subscriber.email);
    }

    // every subscriber's inbox client has each of its notifications, live once or through catch-up
    const expectedFor = (subscriberId: string) =>
      new Set(
        [...ids.entries()]
          .filter(([index]) => plan[index]!.subscriber.id === subscriberId)
          .map(([, id]) => id),
      );
    await waitFor(
      () =>
        clients.every((client) =>
          [...expectedFor(client.subscriberId)].every((id) => client.received().has(id)),
        ),
      { ...EVENTUALLY, description: 'every inbox client to have all its notifications' },
    );
    for (const client of clients) {
      const expected = expectedFor(client.subscriberId);
      const foreign = [...client.received()].filter(
        (id) => !expected.has(id) && !(client.bodies.get(id) ?? '').startsWith('warm-up'),
      );
      expect({ subscriber: client.subscriberId, foreign }).toEqual({
        subscriber: client.subscriberId,
        foreign: [],
      });
      const twiceLive = [...client.live.entries()].filter(([, count]) => count > 1);
      expect({ subscriber: client.subscriberId, twiceLive }).toEqual({
        subscriber: client.subscriberId,
        twiceLive: [],
      });
    }
    // the clients of the killed realtime server did reconnect, and the kill was midway for real
    expect(clients.filter((_, index) => index % 2 === 1).every((client) => client.reconnects >= 1)).toBe(
      true,
    );
    process.stdout.write(
      `scaled e2e: ${TOTAL} accepted (${retries} retried sends), ${emails.size} emails, ${sms.size} SMS, ` +
        `${clients.reduce((sum, c) => sum + c.replayed.size, 0)} notifications replayed by catch-up\n`,
    );
  });
});
