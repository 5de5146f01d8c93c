import { adminAccessToken, createApiKey, startHarness, TEST_ADMIN, type AuthHarness } from './harness';

describe('importing a CSV into subscribers and a topic', () => {
  let auth: AuthHarness;
  let writer: string;

  beforeAll(async () => {
    auth = await startHarness('auth-topic-import', {
      env: { ...TEST_ADMIN, API_KEY_RATE_LIMIT_PER_SECOND: '1000' },
    });
    writer = (await createApiKey(auth, await adminAccessToken(auth), ['subscribers:write'])).key;
    await auth.request('POST', '/api/v1/topics', { key: 'news', name: 'News' }, writer);
  });
  afterAll(() => auth.close());

  const upload = (key: string, csv: string, query = '', token = writer) =>
    auth.app.inject({
      method: 'POST',
      url: `/api/v1/topics/${key}/import${query}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      payload: csv,
    });
  const counts = async () => ({
    subscribers: await auth.models.subscribers.countDocuments(),
    members: await auth.models.topicMembers.countDocuments(),
    imports: await auth.models.topicImports.countDocuments(),
  });

  it('imports rows into subscribers and the topic: known columns, custom columns into data, a report', async () => {
    const csv = [
      'email,name,locale,phone,plan,externalId',
      'ada@example.com,Ada Lovelace,en-GB,+447700900123,pro,ada',
      'grace@example.com,"Hopper, Grace",en,,free,grace',
      'linus@example.com,Linus,fi,,,',
    ].join('\r\n');
    const report = await upload('news', csv);
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({
      topic: 'news',
      topicCreated: false,
      state: 'completed',
      rows: 3,
      created: 3,
      updated: 0,
      rejectedCount: 0,
      rejected: [],
    });
    const ada = await auth.request('GET', '/api/v1/subscribers/ada', undefined, writer);
    expect(ada.json()).toMatchObject({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      locale: 'en-GB',
      phone: '+447700900123',
      data: { plan: 'pro' },
    });
    // no externalId: the email is the id
    expect(
      (await auth.request('GET', '/api/v1/subscribers/linus@example.com', undefined, writer)).json(),
    ).toMatchObject({ name: 'Linus', locale: 'fi' });
    expect((await auth.request('GET', '/api/v1/topics/news', undefined, writer)).json().memberCount).toBe(3);

    // the same file again: nothing changes; a changed row is an update
    const again = await upload('news', csv.replace('Linus,fi', 'Linus Torvalds,fi'));
    expect(again.json()).toMatchObject({ created: 0, updated: 1, unchanged: 2 });
    const stored = await auth.request(
      'GET',
      `/api/v1/topics/news/imports/${again.json().importId}`,
      undefined,
      writer,
    );
    expect(stored.json()).toMatchObject({ state: 'completed', created: 0, updated: 1, unchanged: 2 });
    const listed = await auth.request('GET', '/api/v1/topics/news/imports', undefined, writer);
    expect(listed.json().items.map((entry: { importId: string }) => entry.importId)).toEqual([
      again.json().importId,
      report.json().importId,
    ]);
  });

  it('rejects malformed rows with their line and reason, and imports the rest', async () => {
    const csv = [
      'email,name', // line 1
      'good1@example.com,One', // 2
      'not-an-address,Two', // 3
      'good2@example.com,Three,extra', // 4: a field too many
      ',Nobody', // 5: no email
      'good3@example.com,"Broken "quote" here"', // 6: a broken quote
      'good4@example.com,Four', // 7
    ].join('\n');
    const report = await upload('news', csv);
    expect(report.statusCode).toBe(200);
    const body = report.json();
    expect(body).toMatchObject({ created: 2, rejectedCount: 4 });
    expect(body.rejected.map((rejection: { line: number }) => rejection.line)).toEqual([3, 4, 5, 6]);
    expect(body.rejected[0].reason).toMatch(/email is invalid/);
    expect(body.rejected[1].reason).toBe('expected 2 fields, found 3');
    expect(body.rejected[2].reason).toBe('email is empty');
    expect(body.rejected[3].reason).toMatch(/unreadable row/);
    for (const id of ['good1@example.com', 'good4@example.com']) {
      expect((await auth.request('GET', `/api/v1/subscribers/${id}`, undefined, writer)).statusCode).toBe(
        200,
      );
    }
  });

  it('refuses a CSV without an email column (400) before writing anything', async () => {
    const before = await counts();
    const refused = await upload('news', 'name,phone\nAda,+447700900123\n');
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'csv_header_invalid' });
    expect(refused.json().detail).toMatch(/no email column/);
    expect((await upload('news', '')).json()).toMatchObject({ status: 400, code: 'csv_header_invalid' });
    expect(await counts()).toEqual(before);
  });

  it('answers 404 for a topic that does not exist, unless asked to create it', async () => {
    const before = await counts();
    const missing = await upload('nope', 'email\nx@example.com\n');
    expect(missing.json()).toMatchObject({ status: 404, code: 'topic_not_found' });
    expect(await counts()).toEqual(before);

    const created = await upload('fresh', 'email\nx@example.com\n', '?createTopic=true');
    expect(created.json()).toMatchObject({ topic: 'fresh', topicCreated: true, created: 1 });
    expect((await auth.request('GET', '/api/v1/topics/fresh', undefined, writer)).json()).toMatchObject({
      name: 'fresh',
      memberCount: 1,
    });
  });

  it('refuses a body that is not text/csv (415) and callers without the scope (403)', async () => {
    const json = await auth.request('POST', '/api/v1/topics/news/import', { email: 'x' }, writer);
    expect(json.statusCode).toBe(415);
    const sender = (await createApiKey(auth, await adminAccessToken(auth), ['notifications:send'])).key;
    expect((await upload('news', 'email\nx@example.com\n', '', sender)).statusCode).toBe(403);
  });
});
