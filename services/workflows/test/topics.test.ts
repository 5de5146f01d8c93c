import { EventRoutingKeys, MessageTypes, createMessage, type WorkflowSendMessage } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { MAX_TOPIC_MEMBERS } from '../src/topics/domain/membership';
import { startHarness, type Harness, type Json } from './harness';

/*
 * A trigger to a topic (`recipients: { topic }`): one run per live member,
 * from this service's read model of auth's `topic.*` events (published
 * over the broker here, as auth publishes them).
 */
describe('triggers to a topic', () => {
  let h: Harness;
  let key: string;
  let sends: string;
  const at = '2026-11-02T09:00:00.000Z';

  async function upsertTopic(topic: string, revision: number) {
    await h.publishEvent(
      EventRoutingKeys.topicUpserted,
      createMessage(
        MessageTypes.topicUpserted,
        { key: topic, name: topic, createdAt: at, updatedAt: at, revision },
        { correlationId: 'test' },
      ),
    );
    await waitFor(() => h.models.topics.exists({ _id: topic, revision }), { description: `topic ${topic}` });
  }

  async function changeMembers(topic: string, revision: number, added: string[], removed: string[] = []) {
    await h.publishEvent(
      EventRoutingKeys.topicMembersChanged,
      createMessage(
        MessageTypes.topicMembersChanged,
        { key: topic, revision, added, removed },
        { correlationId: 'test' },
      ),
    );
    const last = [...added, ...removed].at(-1)!;
    await waitFor(() => h.models.topicMembers.exists({ topic, externalId: last, revision }), {
      description: `members of ${topic} at revision ${revision}`,
    });
  }

  beforeAll(async () => {
    h = await startHarness('wf-topics');
    await h.announceTemplate('news', ['email']);
    key = (await h.createApiKey(['notifications:send'])).key;
    sends = await h.tapSends();
    const created = await h.request('POST', '/api/v1/workflows', {
      token: h.token('root', 'admin'),
      body: {
        key: 'newsletter',
        steps: [{ id: 'mail', type: 'channel', channel: 'email', template: 'news' }],
      },
    });
    expect(created.statusCode).toBe(201);
  });
  afterAll(() => h.close());

  const trigger = (body: Json, token = key) =>
    h.request('POST', '/api/v1/workflows/newsletter/trigger', { token, body });

  it('starts one run per live member, each sent once; a repeated transaction starts none', async () => {
    await upsertTopic('weekly', 1);
    await changeMembers('weekly', 2, ['ann', 'bob', 'cy']);
    await changeMembers('weekly', 3, [], ['bob']);
    const response = await trigger({
      recipients: { topic: 'weekly' },
      data: { issue: 7 },
      transactionId: 'issue-7',
    });
    expect(response.statusCode).toBe(202);
    const runs = response.json().runs as Json[];
    expect(runs.map((run) => run.recipient)).toEqual([{ subscriberId: 'ann' }, { subscriberId: 'cy' }]);
    await h.advance();
    const sent = (await h.drain<WorkflowSendMessage>(sends)).map((message) => message.payload.recipient);
    expect(sent).toEqual(expect.arrayContaining([{ subscriberId: 'ann' }, { subscriberId: 'cy' }]));
    expect(sent).toHaveLength(2);

    const again = await trigger({ recipients: { topic: 'weekly' }, transactionId: 'issue-7' });
    expect(again.json().runs.map((run: Json) => run.id)).toEqual(runs.map((run) => run.id));
    await h.advance();
    expect(await h.drain(sends)).toEqual([]);
  });

  it('answers 404 for an unknown or deleted topic, 400 for a malformed one, 403 for a user', async () => {
    const unknown = await trigger({ recipients: { topic: 'nothing-here' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('topic_not_found');

    await upsertTopic('gone', 1);
    await changeMembers('gone', 2, ['ann']);
    await h.publishEvent(
      EventRoutingKeys.topicDeleted,
      createMessage(
        MessageTypes.topicDeleted,
        { key: 'gone', deletedAt: at, revision: 3 },
        { correlationId: 'test' },
      ),
    );
    await waitFor(() => h.models.topics.exists({ _id: 'gone', revision: 3 }), {
      description: 'the tombstone',
    });
    expect((await trigger({ recipients: { topic: 'gone' } })).statusCode).toBe(404);

    expect((await trigger({ recipients: { topic: 'bad topic!' } })).statusCode).toBe(400);
    expect((await trigger({ recipients: { topic: 'weekly', extra: 1 } })).statusCode).toBe(400);
    expect((await trigger({ recipients: { topic: 'weekly' } }, h.token('someone'))).statusCode).toBe(403);
  });

  it(`refuses a topic of more than ${MAX_TOPIC_MEMBERS} members (422), starting nothing`, async () => {
    await upsertTopic('everyone', 1);
    // the read model filled directly: 10,001 members over the broker would only be slower
    await h.models.topicMembers.insertMany(
      Array.from({ length: MAX_TOPIC_MEMBERS + 1 }, (_, index) => ({
        topic: 'everyone',
        externalId: `m${index}`,
        removed: false,
        revision: 2,
      })),
    );
    const before = await h.models.runs.countDocuments();
    const response = await trigger({ recipients: { topic: 'everyone' } });
    expect(response.statusCode).toBe(422);
    expect(response.json().code).toBe('topic_too_large');
    expect(await h.models.runs.countDocuments()).toBe(before);
  });
});
