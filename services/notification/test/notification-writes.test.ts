import { connectTestMongo, type TestMongo } from '@herald/test-support';
import { Types } from 'mongoose';
import {
  notificationModel,
  type NotificationModel,
  type NotificationRecord,
} from '../src/notifications/data/notification-model';
import { NotificationWrites } from '../src/notifications/data/notification-writes';
import { ConfirmationLog } from '../src/outbox/data/confirmation-log';
import { outboxConfirmationModel } from '../src/outbox/data/outbox-models';

describe('the accept path’s batched writes', () => {
  let mongo: TestMongo;
  let model: NotificationModel;
  beforeAll(async () => {
    mongo = await connectTestMongo('notif-writes');
    model = notificationModel(mongo.connection);
    await model.createIndexes();
  });
  afterAll(() => mongo.dropAndClose());
  afterEach(() => jest.restoreAllMocks());

  function record(dedupeKey: string): NotificationRecord {
    const now = new Date();
    return {
      _id: new Types.ObjectId(),
      dedupeKey,
      title: dedupeKey,
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

  it('leaves out the fields the domain left undefined, at any depth, rather than storing null', async () => {
    const writes = new NotificationWrites(model);
    const stored = {
      ...record('with-undefined'),
      sendAt: undefined,
      recipient: { userId: 'u-1', name: undefined },
      deliveries: { in_app: { status: 'delivered', jobId: undefined } },
    } as unknown as NotificationRecord;
    await writes.insert(stored);

    const raw = await model.collection.findOne({ dedupeKey: 'with-undefined' });
    expect(raw).not.toHaveProperty('sendAt');
    expect(raw!.recipient).toEqual({ userId: 'u-1' });
    expect(raw!.deliveries).toEqual({ in_app: { status: 'delivered' } });
  });

  it('records a burst of confirmations in few documents, each caller resuming once its own is stored', async () => {
    const confirmations = outboxConfirmationModel(mongo.connection);
    await confirmations.createIndexes();
    const log = new ConfirmationLog(confirmations, () => new Date());
    const inserts = jest.spyOn(confirmations.collection, 'insertOne');
    const ids = Array.from({ length: 50 }, () => new Types.ObjectId());
    const dueAt = (index: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, index));

    await Promise.all(ids.map((id, index) => log.record({ id, dueAt: dueAt(index) })));

    // one record takes the first arrival, the next one the rest that queued meanwhile
    expect(inserts.mock.calls.length).toBeLessThanOrEqual(3);
    const stranger = new Types.ObjectId();
    const found = await log.confirmedAmong([ids[0]!, ids[49]!, stranger]);
    expect(found).toEqual(new Set([String(ids[0]), String(ids[49])]));

    // What the relay reads once a pass: every record with a notification due by then, whole.
    expect(await log.confirmedDueBy(new Date(Date.UTC(2029, 0, 1)), 10)).toEqual(new Set());
    expect(await log.confirmedDueBy(dueAt(0), 10)).toContain(String(ids[0]));
    expect(await log.confirmedDueBy(dueAt(49), 10)).toEqual(new Set(ids.map(String)));
    // at most `limit` records, the earliest due first
    const later = new Types.ObjectId();
    await log.recordNow([{ id: later, dueAt: dueAt(55) }]);
    expect(await log.confirmedDueBy(dueAt(59), 10)).toContain(String(later));
    const first = await log.confirmedDueBy(dueAt(59), 1);
    expect(first).toContain(String(ids[0]));
    expect(first).not.toContain(String(later));

    // Once the relay's watermark is past every notification of a record, the record goes.
    await log.forgetBefore(new Date(Date.UTC(2031, 0, 1)));
    expect(await log.confirmedAmong([...ids, later])).toEqual(new Set());
  });

  it('with a linger, logs the confirmations that came within it as one record, once it has passed', async () => {
    const confirmations = outboxConfirmationModel(mongo.connection);
    await confirmations.createIndexes();
    let elapse: (() => void) | undefined;
    const log = new ConfirmationLog(confirmations, () => new Date(), 100, {
      setTimeout: (callback, ms) => {
        expect(ms).toBe(100);
        elapse = callback;
        return 1;
      },
      clearTimeout: () => undefined,
    });
    const ids = Array.from({ length: 3 }, () => new Types.ObjectId());
    const recorded = Promise.all(
      ids.map((id, index) => log.record({ id, dueAt: new Date(Date.UTC(2030, 1, 1, 0, 0, index)) })),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(await confirmations.countDocuments({ ids: { $in: ids } })).toBe(0); // still waiting for company
    elapse!();
    await recorded;
    const stored = await confirmations.find({ ids: { $in: ids } }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.ids.map(String)).toEqual(ids.map(String));
  });
});
