import { connectTestMongo, waitFor, type TestMongo } from '@herald/test-support';
import { Types } from 'mongoose';
import { buildNotification } from '../src/notifications/domain/create-notification';
import { publishDueEntries } from '../src/outbox/domain/outbox';
import { notificationModel, unsetReleasedLeaseOwners } from '../src/notifications/data/notification-model';
import { startHarness, type Harness } from './harness';

describe('the outbox lease', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('notif-outbox-lease');
  });
  afterAll(() => h.close());

  /** An email notification stored with `owner`'s lease, as the accepting request stores it. */
  async function storeLeased(owner: string) {
    const document = buildNotification(
      h.app.context,
      {
        recipient: { email: 'lease@example.org' },
        senderId: 'admin-1',
        channels: ['email'],
        title: 'Leased',
        body: 'Held by one instance at a time',
        correlationId: `lease-${owner}`,
      },
      owner,
    );
    await h.models.notifications.insertMany([document]);
    return h.models.notifications.findById(document._id).lean().orFail();
  }

  it('releases a published notification with no owner left, so the sparse index forgets it', async () => {
    const record = await storeLeased('request-1');

    expect(await publishDueEntries(h.app.context, record, 'request-1')).toBe(1);

    const raw = await h.models.notifications.collection.findOne({ _id: record._id });
    expect(raw).not.toHaveProperty('outboxLeaseOwner');
    expect(raw).toMatchObject({ outboxDueAt: null, outboxLeaseUntil: null });
    expect(raw!.outbox[0].publishedAt).toBeInstanceOf(Date);
    await h.drain(h.names.queues.work.email);
  });

  it('lets a holder whose lease was taken over write nothing: the new holder’s view wins', async () => {
    const record = await storeLeased('stalled-request');
    // The relay claimed it after the grace period, while the request was still publishing.
    await h.models.notifications.updateOne({ _id: record._id }, { $set: { outboxLeaseOwner: 'relay-7' } });

    await publishDueEntries(h.app.context, record, 'stalled-request');

    const after = await h.models.notifications.findById(record._id).lean().orFail();
    expect(after.outboxLeaseOwner).toBe('relay-7');
    expect(after.outbox.every((entry) => !entry.publishedAt)).toBe(true);
    expect(after.outboxDueAt).toEqual(record.outboxDueAt);
    await h.drain(h.names.queues.work.email);
  });

  it('refuses a second document with the same owner', async () => {
    await storeLeased('one-claim');
    await expect(storeLeased('one-claim')).rejects.toMatchObject({ code: 11000 });
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
