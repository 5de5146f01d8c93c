// Topics (#24) through the real nginx: the routes nginx.conf gives auth
// (/api/v1/topics, the import streamed unbuffered) and the notification
// service (/api/v1/topic-sends), end to end: a CSV streamed into a topic, a
// send to it, the emails at the fake Mailgun, the campaign's numbers.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { waitFor } from '@herald/test-support';
import { expectStatus, gatewayClient, type GatewayClient } from './support/http';
import { requireNginx, startE2eStack, type E2eStack } from './support/stack';

jest.setTimeout(120_000);
requireNginx();

const EVENTUALLY = { timeoutMs: 60_000, intervalMs: 200 };
const run = randomBytes(3).toString('hex');

describe('topics through the gateway', () => {
  let stack: E2eStack;
  let api: GatewayClient;
  let key: string;

  beforeAll(async () => {
    stack = await startE2eStack();
    api = gatewayClient(stack.gatewayUrl);
    const login = expectStatus(
      await api.post<{ accessToken: string }>('/api/v1/auth/login', {
        email: stack.admin.email,
        password: stack.admin.password,
      }),
      200,
    );
    key = expectStatus(
      await api.post<{ key: string }>(
        '/api/v1/api-keys',
        { name: 'e2e newsletter', scopes: ['subscribers:write', 'notifications:send', 'notifications:read'] },
        { token: login.body.accessToken },
      ),
      201,
    ).body.key;
  }, 180_000);
  afterAll(() => stack?.stop());

  it('imports a streamed CSV into a topic, sends to it, and counts the campaign', async () => {
    expectStatus(await api.post('/api/v1/topics', { key: `news-${run}`, name: 'News' }, { token: key }), 201);
    const rows = [
      'email,name,externalId',
      ...[1, 2, 3].map((n) => `r${n}.${run}@example.com,Reader ${n},r${n}-${run}`),
    ];
    rows.push('broken-address,Nobody,nobody');
    // a chunked, streamed upload: what nginx passes through unbuffered to auth
    const upload = await fetch(`${stack.gatewayUrl}/api/v1/topics/news-${run}/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(Readable.from(rows.map((row) => `${row}\n`))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(upload.status).toBe(200);
    expect(await upload.json()).toMatchObject({
      created: 3,
      rejectedCount: 1,
      rejected: [{ line: 5, reason: expect.stringMatching(/email is invalid/) }],
    });
    const noEmail = await fetch(`${stack.gatewayUrl}/api/v1/topics/news-${run}/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
      body: 'name\nX\n',
    });
    expect(noEmail.status).toBe(400);

    // the notification service learns the topic and its members from auth's events
    const send = await waitFor(
      async () => {
        const answer = await api.post<{ topicSendId: string }>(
          '/api/v1/notifications',
          { recipient: { topic: `news-${run}` }, channels: ['email'], title: 'The news', body: 'Hello' },
          { token: key },
        );
        return answer.status === 202 ? answer.body : undefined;
      },
      { ...EVENTUALLY, description: 'the topic known to the notification service' },
    );
    await waitFor(
      () =>
        [1, 2, 3].every((n) =>
          stack.mailgun.accepted.some((message) => message.recipient === `r${n}.${run}@example.com`),
        ),
      { ...EVENTUALLY, description: 'three emails at the fake Mailgun' },
    );
    const stats = await waitFor(
      async () => {
        const answer = await api.get<{ channels: { email: { sent: number } } }>(
          `/api/v1/topic-sends/${send.topicSendId}`,
          { token: key },
        );
        return answer.body.channels?.email?.sent === 3 ? answer.body : undefined;
      },
      { ...EVENTUALLY, description: 'the campaign counted' },
    );
    expect(stats).toMatchObject({ state: 'completed', recipientCount: 3, notified: 3 });
    expectStatus(await api.get(`/api/v1/topic-sends/${send.topicSendId}`), 401);
  });
});
