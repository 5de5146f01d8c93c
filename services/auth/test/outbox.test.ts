import { AmqpClient } from '@herald/amqp';
import { createLogger } from '@herald/runtime';
import { waitFor } from '@herald/test-support';
import { EventOutbox } from '../src/outbox/domain/outbox';
import { LogCapture, startHarness, TEST_PASSWORD, waitForOutboxDrained, type AuthHarness } from './harness';

const silentLogger = () => createLogger({ name: 'relay', level: 'silent', format: 'json' }, new LogCapture());

describe('the outbox', () => {
  let auth: AuthHarness;
  beforeAll(async () => {
    // no background relay in this suite's main instance: the tests run relay passes themselves
    auth = await startHarness('auth-outbox', { env: { OUTBOX_RELAY_INTERVAL_MS: '600000' } });
  });
  afterAll(() => auth.close());

  it('keeps the events when the broker is unreachable, and the relay publishes them later', async () => {
    // A second instance whose broker is down: nothing listens on port 1.
    const unreachable = new AmqpClient({
      url: 'amqp://guest:guest@127.0.0.1:1',
      logger: createLogger({ name: 'amqp', level: 'silent', format: 'json' }, new LogCapture()),
      connectionName: 'auth-outbox-down',
      namespace: auth.amqp.names.namespace,
      publishTimeoutMs: 300,
      reconnectSeconds: 60,
    });
    const brokerDown = await startHarness('auth-outbox', {
      shareWith: auth,
      amqp: unreachable,
      env: { OUTBOX_RELAY_INTERVAL_MS: '60000' },
    });
    let userId: string;
    try {
      const registered = await brokerDown.request('POST', '/api/v1/auth/register', {
        email: 'offline@example.com',
        password: TEST_PASSWORD,
        name: 'Offline',
      });
      expect(registered.statusCode).toBe(202);
      userId = (await auth.models.users.findOne({ email: 'offline@example.com' }).lean())!._id.toHexString();
      // the publish attempt timed out; both events are still stored with the user
      await waitFor(() => brokerDown.logs.lines.some((line) => line.includes('relay will retry')));
      const stored = await auth.models.users.findById(userId).lean();
      expect(stored!.outbox.map((entry) => entry.routingKey)).toEqual([
        'user.registered',
        'user.verification_requested',
      ]);
    } finally {
      await brokerDown.app.close();
      await unreachable.close(100).catch(() => undefined);
    }

    // the broker is back: a relay (as every instance runs one) picks them up
    const relay = new EventOutbox(auth.models.users, auth.amqp, silentLogger(), 100);
    relay.startRelay();
    const published = await waitFor(() => {
      const found = auth.events.about(userId);
      return found.length === 2 ? found : undefined;
    });
    expect(published.map((message) => message.type).sort()).toEqual([
      'user.registered',
      'user.verification_requested',
    ]);
    await waitFor(async () => (await auth.models.users.findById(userId).lean())!.outbox.length === 0, {
      description: 'the outbox emptied after the confirms',
    });
    await relay.close();
  });

  it("publishes a user's events in the order they were saved, and each once when nothing fails", async () => {
    const user = await auth.signUp('ordered@example.com');
    for (const name of ['One', 'Two', 'Three']) {
      await auth.request('PATCH', '/api/v1/auth/me', { name }, user.accessToken);
    }
    await waitForOutboxDrained(auth);
    const updates = await waitFor(() => {
      const found = auth.events
        .ofType('user.updated')
        .filter((message) => message.payload.userId === user.id);
      return found.length >= 3 ? found : undefined;
    });
    expect(
      updates.map((message) => [message.payload.name, (message.payload as { revision?: number }).revision]),
    ).toEqual([
      ['One', 1],
      ['Two', 2],
      ['Three', 3],
    ]);
  });

  it('publishes snapshots of states that were really saved, under concurrent changes', async () => {
    const user = await auth.signUp('concurrent@example.com');
    // a number typed into the profile before numbers were verified
    await auth.models.users.updateOne({ _id: user.id }, { $set: { phone: '+34600000000' } });
    await Promise.all([
      auth.request('PATCH', '/api/v1/auth/me', { name: 'Concurrent Name' }, user.accessToken),
      auth.request('PATCH', '/api/v1/auth/me', { locale: 'es' }, user.accessToken),
      auth.request('PATCH', '/api/v1/auth/me', { phone: null }, user.accessToken),
    ]);
    await waitForOutboxDrained(auth);
    const updates = await waitFor(() => {
      const found = auth.events
        .ofType('user.updated')
        .filter((message) => message.payload.userId === user.id);
      return found.length >= 3 ? found : undefined;
    });
    const revisions = updates.map((message) => (message.payload as { revision?: number }).revision);
    expect([...revisions].sort()).toEqual([1, 2, 3]);
    const latest = updates.find((message) => (message.payload as { revision?: number }).revision === 3)!;
    expect(latest.payload).toMatchObject({ name: 'Concurrent Name', locale: 'es', phoneVerified: false });
    expect(latest.payload.phone).toBeUndefined();
  });

  it('relays every waiting user, batch after batch', async () => {
    const relay = new EventOutbox(auth.models.users, auth.amqp, silentLogger(), 1);
    await auth.models.users.insertMany(
      [1, 2, 3, 4, 5].map((n) => ({
        email: `batch${n}@example.com`,
        passwordHash: 'irrelevant',
        name: `Batch ${n}`,
        outbox: [
          relay.entry(
            'user.registered',
            {
              userId: `batch-${n}`,
              email: `batch${n}@example.com`,
              name: `Batch ${n}`,
              role: 'user',
              emailVerified: false,
            },
            'batch-test',
          ),
        ],
      })),
    );
    // three batches of at most two, in one pass
    expect(await relay.relayOnce(2)).toBe(5);
    const published = await waitFor(() => {
      const found = auth.events.messages.filter((message) => message.correlationId === 'batch-test');
      return found.length === 5 ? found : undefined;
    });
    expect(published.map((message) => (message.payload as { userId: string }).userId).sort()).toEqual([
      'batch-1',
      'batch-2',
      'batch-3',
      'batch-4',
      'batch-5',
    ]);
    await waitForOutboxDrained(auth);
    await relay.close();
  });
});
