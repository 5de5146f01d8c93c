import { createHash } from 'node:crypto';
import { connectTestMongo, testLogger, waitFor, type TestMongo } from '@herald/test-support';
import { Types } from 'mongoose';
import { buildApp } from '../src/app';
import { type ServiceSettings } from '../src/config';
import {
  buildNotification,
  storeNotification,
  type NotificationDraft,
} from '../src/notifications/domain/create-notification';
import { notificationModel, unsetReleasedLeaseOwners } from '../src/notifications/data/notification-model';
import { createdEventId, publishDueEntries, publishOwed } from '../src/outbox/domain/outbox';
import { startHarness, type Harness, type Json } from './harness';

/*
 * The accept path writes a notification once and logs its confirmations in
 * batches; the relay republishes what was not logged. Each test leaves the
 * state a crash at one point leaves (by running the accept path only up to
 * there), then lets the relay run, and checks that every message reached its
 * queue, at least once, always with the same message id (which the worker
 * and the clients drop as a duplicate), and that nothing is published again
 * once settled.
 */
describe('the outbox at each crash point', () => {
  let h: Harness;
  // The test's own clock: the relay sees a notification due only when the test says so.
  let clock = Date.now();
  const now = () => new Date(clock);
  const graceMs = 1_000;
  beforeAll(async () => {
    h = await startHarness('notif-outbox-crash', { now, settings: { outboxGraceMs: graceMs } });
  });
  afterAll(() => h.close());

  let sequence = 0;
  function draft(overrides: Partial<NotificationDraft> = {}): NotificationDraft {
    sequence += 1;
    return {
      recipient: { email: `crash-${sequence}@example.org` },
      senderId: 'admin-1',
      channels: ['email'],
      title: `Crash ${sequence}`,
      body: 'Stored before the crash',
      correlationId: `crash-${sequence}`,
      ...overrides,
    };
  }

  /** Stored as the accepting request stores it, and nothing more: the crash comes right after. */
  async function storedThenCrashed(overrides: Partial<NotificationDraft> = {}) {
    const document = buildNotification(h.app.context, draft(overrides), 'accepting');
    await h.models.notifications.insertMany([document]);
    return (await h.models.notifications.findById(document._id).lean())!;
  }

  /** A second instance of the service on the same database and broker, relaying in batches of 3. */
  async function anotherInstance(relayIntervalMs: number, settings: Partial<ServiceSettings> = {}) {
    const app = await buildApp({
      logger: testLogger(),
      mongo: h.mongo.connection,
      amqp: h.broker.client,
      verifier: h.issuer.verifier(),
      settings: { relayIntervalMs, outboxBatchSize: 3, outboxGraceMs: graceMs, ...settings },
      now,
    });
    await app.ready();
    return app;
  }

  const jobsFor = (jobs: Json[], id: Types.ObjectId) =>
    jobs.filter((job) => job.payload.notificationId === id.toHexString());

  /** Relay passes until the notification's confirmations are logged, then a few more. */
  async function relayUntilSettled(id: Types.ObjectId) {
    await waitFor(
      async () => {
        await h.app.relay.runOnce();
        return h.confirmed(id);
      },
      { description: 'the relay to settle it' },
    );
    for (let pass = 0; pass < 3; pass += 1) await h.app.relay.runOnce();
  }

  it('after the insert, before any publish: the relay publishes it once it is due', async () => {
    const record = await storedThenCrashed();
    expect(record.outboxDueAt).toEqual(new Date(clock + graceMs));

    // Within the grace period the relay leaves it to the accepting request.
    await h.app.relay.runOnce();
    expect(await h.messageCount(h.names.queues.work.email)).toBe(0);

    clock += graceMs;
    await relayUntilSettled(record._id);

    const jobs = jobsFor(await h.drain(h.names.queues.work.email), record._id);
    expect(jobs.map((job) => job.messageId)).toEqual([record.deliveries.email!.jobId]);
  });

  it('after the publish, before its confirmation is logged: republished with the same ids', async () => {
    const user = await h.registerUser();
    const created = await h.tapCreated();
    const record = await storedThenCrashed({
      recipient: { userId: user.userId, email: user.email },
      channels: ['in_app', 'email'],
    });
    expect(await publishOwed(h.app.context, record)).toEqual({ published: 2, confirmed: true });

    clock += graceMs;
    await relayUntilSettled(record._id);

    const jobs = jobsFor(await h.drain(h.names.queues.work.email), record._id);
    expect(jobs.map((job) => job.messageId)).toEqual([
      record.deliveries.email!.jobId,
      record.deliveries.email!.jobId,
    ]);
    // the inbox event twice, each time in a batch: realtime knows it again by the notification's id
    const events = await h.drainCreated(created);
    expect(events.map((event) => [event.via, event.notification.id])).toEqual([
      ['notifications.created', record._id.toHexString()],
      ['notifications.created', record._id.toHexString()],
    ]);
  });

  it('after its confirmation is logged: the relay publishes nothing', async () => {
    const record = await storedThenCrashed();
    expect(await publishDueEntries(h.app.context, record)).toBe(1);
    expect(await h.confirmed(record._id)).toBe(true);

    clock += graceMs;
    for (let pass = 0; pass < 3; pass += 1) await h.app.relay.runOnce();

    const jobs = jobsFor(await h.drain(h.names.queues.work.email), record._id);
    expect(jobs).toHaveLength(1);
  });

  it('confirmed, its record still lingering for company: the relay logs it first and publishes nothing', async () => {
    // an instance whose confirmations wait a minute (real time) for company: only a flush writes them
    const lingering = await anotherInstance(3_600_000, {
      outboxGraceMs: 1_000_000,
      outboxConfirmLingerMs: 60_000,
    });
    try {
      const ctx = lingering.context;
      const record = await storedThenCrashed();
      expect(await publishOwed(ctx, record)).toEqual({ published: 1, confirmed: true });
      const logging = ctx.confirmations.record({ id: record._id, dueAt: record.outboxDueAt! });
      expect(await h.confirmed(record._id)).toBe(false);

      clock += graceMs;
      await lingering.relay.runOnce();
      expect(jobsFor(await h.drain(h.names.queues.work.email), record._id)).toHaveLength(1);
      expect(await h.confirmed(record._id)).toBe(true);
      await logging; // written by the pass's flush, not a minute later
      for (let pass = 0; pass < 2; pass += 1) await lingering.relay.runOnce();
      expect(jobsFor(await h.drain(h.names.queues.work.email), record._id)).toHaveLength(0);
    } finally {
      await lingering.close();
    }
  });

  it('logged in a record from before records carried their earliest due time: the relay publishes nothing', async () => {
    const record = await storedThenCrashed();
    expect((await publishOwed(h.app.context, record)).confirmed).toBe(true);
    // as an earlier version wrote it: no dueFrom, so the pass's one read of the log does not find it
    await h.mongo.connection
      .collection('outbox_confirmations')
      .insertOne({ ids: [record._id], dueUntil: record.outboxDueAt, at: now() });

    clock += graceMs;
    for (let pass = 0; pass < 3; pass += 1) await h.app.relay.runOnce();

    expect(jobsFor(await h.drain(h.names.queues.work.email), record._id)).toHaveLength(1);
  });

  it('a pass over confirmed notifications reads the log once and writes its state once: watermark and release', async () => {
    // this test counts one relay's reads and writes: the harness's own relay stands still meanwhile
    await h.app.relay.stop();
    const other = await anotherInstance(60_000);
    try {
      await other.relay.runOnce(); // anything due from earlier tests
      const records = await Promise.all(Array.from({ length: 10 }, () => storedThenCrashed()));
      for (const record of records) expect(await publishDueEntries(other.context, record)).toBe(1);
      await h.drain(h.names.queues.work.email);

      clock += graceMs;
      const byId = jest.spyOn(other.context.confirmations, 'confirmedAmong');
      const once = jest.spyOn(other.context.confirmations, 'confirmedDueBy');
      const relayWrites = jest.spyOn(other.context.models.outboxRelay, 'updateOne');
      const forget = jest.spyOn(other.context.confirmations, 'forgetBefore');
      try {
        await other.relay.runOnce();
        expect(once).toHaveBeenCalledTimes(1);
        expect(byId).not.toHaveBeenCalled();
        // 10 notifications in 4 batches of 3, none to publish: no lease check, one write of the
        // state, the watermark past the last of them and the lease released together
        expect(relayWrites).toHaveBeenCalledTimes(1);
        expect(relayWrites.mock.calls[0]![1]).toMatchObject({ $set: { leaseUntil: null } });
        expect(forget).toHaveBeenCalledTimes(1);

        // nothing more due: the next pass reads, stores nothing, forgets nothing, releases
        relayWrites.mockClear();
        forget.mockClear();
        await other.relay.runOnce();
        expect(relayWrites).toHaveBeenCalledTimes(1);
        expect(JSON.stringify(relayWrites.mock.calls[0]![1])).not.toContain('settledDueAt');
        expect(forget).not.toHaveBeenCalled();
      } finally {
        byId.mockRestore();
        once.mockRestore();
        relayWrites.mockRestore();
        forget.mockRestore();
      }
      const state = await h.models.outboxRelay.findById('notifications').lean();
      expect(state?.leaseUntil ?? null).toBeNull();
      const last = records
        .map((one) => one._id.toHexString())
        .sort()
        .at(-1);
      expect(String(state?.settledId)).toBe(last);
      const ids = new Set(records.map((one) => one._id.toHexString()));
      const jobs = (await h.drain(h.names.queues.work.email)).filter((job) =>
        ids.has(job.payload.notificationId),
      );
      expect(jobs).toEqual([]);
    } finally {
      await other.close();
      h.app.relay.start();
    }
  });

  it('an insert acknowledged too late for the relay is re-dated before the request has its answer', async () => {
    const ctx = h.app.context;
    const insert = ctx.writes.insert.bind(ctx.writes);
    // The database stalls: the insert is acknowledged a whole grace period after the document was built.
    const stalled = jest.spyOn(ctx.writes, 'insert').mockImplementation(async (record) => {
      await insert(record);
      clock += graceMs;
    });
    try {
      const record = await storeNotification(ctx, draft());
      const stored = (await h.models.notifications.findById(record._id).lean())!;
      expect(stored.outboxDueAt!.getTime()).toBeGreaterThan(clock);
      expect(record.outboxDueAt).toEqual(stored.outboxDueAt);
      await waitFor(() => h.confirmed(record._id), { description: 'its publish' });
    } finally {
      stalled.mockRestore();
    }
    await h.drain(h.names.queues.work.email);
  });

  it('publishes each orphan exactly once with relays on two instances running at the same time', async () => {
    const other = await anotherInstance(50);
    try {
      const records = await Promise.all(Array.from({ length: 12 }, () => storedThenCrashed()));
      clock += graceMs;
      await Promise.all([
        h.app.relay.runOnce(),
        other.relay.runOnce(),
        h.app.relay.runOnce(),
        other.relay.runOnce(),
      ]);
      await waitFor(
        async () => (await Promise.all(records.map((one) => h.confirmed(one._id)))).every(Boolean),
        {
          description: 'every orphan settled',
        },
      );
      await Promise.all([h.app.relay.runOnce(), other.relay.runOnce()]);

      const ids = new Set(records.map((one) => one._id.toHexString()));
      const jobs = (await h.drain(h.names.queues.work.email)).filter((job) =>
        ids.has(job.payload.notificationId),
      );
      expect(jobs.map((job) => job.messageId).sort()).toEqual(
        records.map((one) => one.deliveries.email!.jobId).sort(),
      );
    } finally {
      await other.close();
    }
  });

  it('relays nothing while another instance holds the relay lease, and takes over once it lapses', async () => {
    const relayState = h.models.outboxRelay;
    // Let any pass in progress finish, then play an instance that holds the lease and stalled.
    await h.app.relay.runOnce();
    await relayState.updateOne(
      { _id: 'notifications' },
      { $set: { owner: 'stalled-instance', leaseUntil: new Date(clock + 5_000) } },
      { upsert: true },
    );
    const record = await storedThenCrashed();
    clock += graceMs;
    await h.app.relay.runOnce();
    expect(await h.confirmed(record._id)).toBe(false);

    clock += 5_000;
    await relayUntilSettled(record._id);
    expect(jobsFor(await h.drain(h.names.queues.work.email), record._id)).toHaveLength(1);
  });

  it('publishes nothing when another instance took the lease while the pass was reading', async () => {
    await h.app.relay.stop();
    await h.app.relay.runOnce(); // anything due from earlier tests
    const confirmations = h.app.context.confirmations;
    const readLog = confirmations.confirmedDueBy.bind(confirmations);
    const duringRead = jest.spyOn(confirmations, 'confirmedDueBy').mockImplementationOnce(async (...args) => {
      // this pass stalled past its lease, and another instance took the relay meanwhile
      await h.models.outboxRelay.updateOne(
        { _id: 'notifications' },
        { $set: { owner: 'faster-instance', leaseUntil: new Date(clock + 5_000) } },
      );
      return readLog(...args);
    });
    try {
      const record = await storedThenCrashed();
      clock += graceMs;
      await h.app.relay.runOnce();
      expect(duringRead).toHaveBeenCalled();
      expect(await h.confirmed(record._id)).toBe(false);
      expect(jobsFor(await h.drain(h.names.queues.work.email), record._id)).toEqual([]);
      // nor did this pass write the relay's state: the other instance's lease stands
      const state = await h.models.outboxRelay.findById('notifications').lean();
      expect(state).toMatchObject({ owner: 'faster-instance' });

      clock += 5_000;
      await relayUntilSettled(record._id);
      expect(jobsFor(await h.drain(h.names.queues.work.email), record._id)).toHaveLength(1);
    } finally {
      duringRead.mockRestore();
      h.app.relay.start();
    }
  });

  it('republishes what a document stored before the confirmation log still owes, by its stored ids', async () => {
    const legacyJob = '3f1c0a52-9a51-4c1e-8f3e-2f3cf7b0a001';
    const document = buildNotification(h.app.context, draft(), 'accepting');
    await h.models.notifications.collection.insertOne({
      ...document,
      deliveries: { email: { status: 'queued', jobId: legacyJob, updatedAt: now() } },
      history: [{ channel: 'email', status: 'queued', at: now(), source: 'api' }],
      outbox: [{ messageId: legacyJob, kind: 'job', channel: 'email', publishAfter: now() }],
      outboxDueAt: now(),
      outboxLeaseUntil: now(),
      outboxLeaseOwner: 'instance-long-gone',
      createdAt: now(),
      updatedAt: now(),
    } as object);
    clock += 1;
    await relayUntilSettled(document._id);
    expect(
      jobsFor(await h.drain(h.names.queues.work.email), document._id).map((job) => job.messageId),
    ).toEqual([legacyJob]);
  });
});

describe('unsetReleasedLeaseOwners', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await connectTestMongo('notif-lease-migration');
  });
  afterAll(() => mongo.dropAndClose());

  it('unsets the null owners older releases left, so the unique index builds; live leases stay', async () => {
    const raw = mongo.connection.collection('notifications');
    const released = [new Types.ObjectId(), new Types.ObjectId()];
    const leased = new Types.ObjectId();
    await raw.insertMany([
      { _id: released[0], outbox: [], outboxLeaseOwner: null, dedupeKey: 'a' },
      { _id: released[1], outbox: [], outboxLeaseOwner: null, dedupeKey: 'b' },
      { _id: leased, outbox: [], outboxLeaseOwner: 'relay-1', dedupeKey: 'c' },
    ]);
    const model = notificationModel(mongo.connection);

    expect(await unsetReleasedLeaseOwners(model)).toBe(2);
    await model.createIndexes();

    for (const _id of released) expect(await raw.findOne({ _id })).not.toHaveProperty('outboxLeaseOwner');
    expect(await raw.findOne({ _id: leased })).toMatchObject({ outboxLeaseOwner: 'relay-1' });
    await waitFor(() => model.collection.indexExists('outboxLeaseOwner_1'), { description: 'the index' });
    // the index exists now: later starts skip the scan
    expect(await unsetReleasedLeaseOwners(model)).toBe(0);
  });
});

describe('createdEventId', () => {
  it('is the name-based UUID earlier versions derived, so a message republished across an upgrade is still a duplicate', () => {
    // pinned: sha1("notification.created:<id hex>") shaped as a version-5 UUID
    expect(createdEventId(new Types.ObjectId('65f0c0ffee0000000000abcd'))).toBe(
      createdEventIdAsBefore('65f0c0ffee0000000000abcd'),
    );
    expect(createdEventId(new Types.ObjectId('65f0c0ffee0000000000abcd'))).toBe(
      '711a776a-97b7-5646-b15c-2297f546bacf',
    );
  });
});

/** the derivation as it was written before (a Hash object), to compare with */
function createdEventIdAsBefore(idHex: string): string {
  const hex = createHash('sha1').update(`notification.created:${idHex}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
