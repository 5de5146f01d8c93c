import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import mongoose from 'mongoose';
import { connectTestMongo, type TestMongo } from '@herald/test-support';
import {
  deliveryModel,
  prepareDeliveries,
  type Delivery,
  type DeliveryModel,
} from '../src/deliveries/data/delivery-model';
import { DeliveryRecords, type DeliveryKey } from '../src/deliveries/data/delivery-records';

const LEASE_MS = 30_000;

const newKey = (): DeliveryKey => ({ notificationId: `n-${randomUUID()}`, channel: 'email' });

describe('the deliveries records, with the writes of many sends batched', () => {
  let mongo: TestMongo;
  let model: DeliveryModel;
  let records: DeliveryRecords;

  beforeAll(async () => {
    mongo = await connectTestMongo('delivery-records');
    model = deliveryModel(mongo.connection);
    records = new DeliveryRecords(model);
    await prepareDeliveries(model);
  });
  afterAll(() => mongo.dropAndClose());

  const record = (key: DeliveryKey) => model.findOne(key).lean<Delivery>();

  it('claims many new jobs at once, each with a complete record', async () => {
    const keys = Array.from({ length: 60 }, newKey);
    const before = Date.now();
    const claims = await Promise.all(
      keys.map((key, i) => records.claimNew(key, `job-${i}`, 'mailgun', LEASE_MS)),
    );
    expect(claims).toEqual(
      keys.map(() => ({
        kind: 'claimed',
        attempts: 1,
        takeover: false,
        unclear: [],
        since: expect.any(Date),
      })),
    );

    const stored = await record(keys[7]!);
    expect(stored).toMatchObject({
      ...keys[7],
      jobId: 'job-7',
      provider: 'mailgun',
      state: 'sending',
      attempts: 1,
    });
    expect(stored!.leaseUntil!.getTime()).toBeGreaterThanOrEqual(before + LEASE_MS);
    expect(stored!.createdAt).toBeInstanceOf(Date);
    expect(stored!.updatedAt).toBeInstanceOf(Date);
    expect(await model.countDocuments({ notificationId: { $in: keys.map((k) => k.notificationId) } })).toBe(
      60,
    );
  });

  it('decides on the existing record when a first claim meets one, in the same batch as new ones', async () => {
    const fresh = newKey();
    const twin = newKey();
    const sent = newKey();
    const leased = newKey();
    const abandoned = newKey();
    const now = Date.now();
    await model.insertMany([
      { ...sent, jobId: 'j', state: 'sent', attempts: 1, leaseUntil: null, providerMessageId: '<m1@x>' },
      { ...leased, jobId: 'j', state: 'sending', attempts: 1, leaseUntil: new Date(now + 60_000) },
      // a worker died mid-send and its lease ran out
      {
        ...abandoned,
        jobId: 'j',
        state: 'sending',
        attempts: 1,
        leaseUntil: new Date(now - 1_000),
        provider: 'mailgun',
        unclear: { mailgun: new Date(now - 31_000) },
      },
    ]);

    const [freshClaim, twinA, twinB, sentClaim, leasedClaim, abandonedClaim] = await Promise.all([
      records.claimNew(fresh, 'j', 'mailgun', LEASE_MS),
      records.claimNew(twin, 'j', 'mailgun', LEASE_MS),
      records.claimNew(twin, 'j', 'mailgun', LEASE_MS),
      records.claimNew(sent, 'j', 'mailgun', LEASE_MS),
      records.claimNew(leased, 'j', 'mailgun', LEASE_MS),
      records.claimNew(abandoned, 'j', 'mailgun', LEASE_MS),
    ]);

    expect(freshClaim).toEqual({
      kind: 'claimed',
      attempts: 1,
      takeover: false,
      unclear: [],
      since: expect.any(Date),
    });
    // a job delivered twice at the same moment: exactly one of the two owns the send
    expect([twinA!.kind, twinB!.kind].sort()).toEqual(['claimed', 'leased']);
    expect(sentClaim).toMatchObject({ kind: 'already_sent', delivery: { providerMessageId: '<m1@x>' } });
    expect(leasedClaim).toMatchObject({ kind: 'leased' });
    // with the provider whose call has no known outcome, to ask before sending again
    expect(abandonedClaim).toEqual({
      kind: 'claimed',
      attempts: 2,
      takeover: true,
      unclear: ['mailgun'],
      since: expect.any(Date),
      // when that call started: its lookup waits for the provider to show it (PROVIDER_LOOKUP_DELAY_MS)
      lastCallAt: new Date(now - 31_000),
    });
  });

  it('marks many sends sent at once, each with its own provider id', async () => {
    const keys = Array.from({ length: 40 }, newKey);
    await Promise.all(keys.map((key) => records.claimNew(key, 'j', 'mailgun', LEASE_MS)));
    await model.updateOne(keys[0]!, { $set: { lastError: { code: 'provider_unavailable', message: 'x' } } });

    await Promise.all(keys.map((key, i) => records.markSent(key, 'mailgun', `<m${i}@mg>`)));

    const stored = await model
      .find({ notificationId: { $in: keys.map((k) => k.notificationId) } })
      .lean<Delivery[]>();
    expect(stored).toHaveLength(40);
    for (const delivery of stored) {
      const index = keys.findIndex((key) => key.notificationId === delivery.notificationId);
      expect(delivery).toMatchObject({
        state: 'sent',
        providerMessageId: `<m${index}@mg>`,
        leaseUntil: null,
      });
      expect(delivery.sentAt).toBeInstanceOf(Date);
      expect(delivery.lastError).toBeUndefined();
    }
  });

  it('fails every caller of a batch whose write fails, so no job is acked on a record never written', async () => {
    const deadPort = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const unreachable = mongoose.createConnection(`mongodb://127.0.0.1:${deadPort}/nowhere`, {
      serverSelectionTimeoutMS: 300,
      bufferCommands: false,
    });
    unreachable.on('error', () => undefined);
    const offline = new DeliveryRecords(deliveryModel(unreachable));
    try {
      const keys = Array.from({ length: 5 }, newKey);
      const outcomes = await Promise.allSettled([
        ...keys.map((key) => offline.claimNew(key, 'j', 'mailgun', LEASE_MS)),
        ...keys.map((key) => offline.markSent(key, 'mailgun', '<m@mg>')),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(outcomes.map(() => 'rejected'));
    } finally {
      await unreachable.close().catch(() => undefined);
    }
  });
});
