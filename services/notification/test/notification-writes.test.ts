import { connectTestMongo, type TestMongo } from '@herald/test-support';
import { Types } from 'mongoose';
import {
  notificationModel,
  type NotificationModel,
  type NotificationRecord,
} from '../src/notifications/data/notification-model';
import { NotificationWrites } from '../src/notifications/data/notification-writes';

describe('NotificationWrites (the accept path’s batched writes)', () => {
  let mongo: TestMongo;
  let model: NotificationModel;
  beforeAll(async () => {
    mongo = await connectTestMongo('notif-writes');
    model = notificationModel(mongo.connection);
    await model.createIndexes();
  });
  afterAll(() => mongo.dropAndClose());
  afterEach(() => jest.restoreAllMocks());

  function record(dedupeKey: string, owner?: string): NotificationRecord {
    const now = new Date();
    return {
      _id: new Types.ObjectId(),
      dedupeKey,
      title: dedupeKey,
      outbox: [],
      outboxDueAt: null,
      outboxLeaseUntil: null,
      ...(owner ? { outboxLeaseOwner: owner } : {}),
      createdAt: now,
      updatedAt: now,
    } as unknown as NotificationRecord;
  }

  it('stores what arrives together in few inserts, and fails only the duplicate', async () => {
    const writes = new NotificationWrites(model);
    await writes.insert(record('already-there'));
    const inserts = jest.spyOn(model.collection, 'insertMany');

    const keys = Array.from({ length: 40 }, (_, index) => `burst-${index}`);
    const results = await Promise.allSettled([
      ...keys.map((key) => writes.insert(record(key))),
      writes.insert(record('already-there')),
    ]);

    expect(results.slice(0, 40).every((result) => result.status === 'fulfilled')).toBe(true);
    expect(results[40]).toMatchObject({ status: 'rejected', reason: { code: 11000 } });
    expect(await model.countDocuments({ dedupeKey: { $in: keys } })).toBe(40);
    expect(await model.countDocuments({ dedupeKey: 'already-there' })).toBe(1);
    // one write takes the first arrival, the next one the rest that queued meanwhile
    expect(inserts.mock.calls.length).toBeLessThanOrEqual(3);
  });

  it('releases each lease its owner still holds, and leaves a taken-over one to its new holder', async () => {
    const writes = new NotificationWrites(model);
    const owners = Array.from({ length: 10 }, (_, index) => `owner-${index}`);
    const stored = owners.map((owner) => record(`leased-${owner}`, owner));
    for (const one of stored) await writes.insert(one);
    await model.updateOne({ _id: stored[3]!._id }, { $set: { outboxLeaseOwner: 'relay-new' } });
    const bulk = jest.spyOn(model.collection, 'bulkWrite');

    await Promise.all(
      owners.map((owner) =>
        writes.releaseLease({
          owner,
          update: { $set: { title: 'released' }, $unset: { outboxLeaseOwner: '' } },
        }),
      ),
    );

    const after = await model.collection.find({ _id: { $in: stored.map((one) => one._id) } }).toArray();
    const byId = new Map(after.map((one) => [String(one._id), one]));
    stored.forEach((one, index) => {
      const now = byId.get(String(one._id))!;
      if (index === 3) expect(now).toMatchObject({ title: one.title, outboxLeaseOwner: 'relay-new' });
      else {
        expect(now).toMatchObject({ title: 'released' });
        expect(now).not.toHaveProperty('outboxLeaseOwner');
      }
    });
    expect(bulk.mock.calls.length).toBeLessThanOrEqual(3);
  });
});
