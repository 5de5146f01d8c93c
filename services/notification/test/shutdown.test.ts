import { startHarness, type Harness } from './harness';

describe('graceful shutdown', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('notif-shutdown');
  });
  afterAll(() => h.close());

  it('finishes publishing what it accepted before the app closes', async () => {
    const user = await h.registerUser();
    const response = await h.request('POST', '/api/v1/notifications', {
      token: h.token(user.userId),
      body: { title: 'Bye', body: 'Last one', recipient: { userId: user.userId }, channels: ['email'] },
    });
    expect(response.statusCode).toBe(202);
    // No waiting: close() itself must drain the publish that started after the response.
    await h.app.close();

    expect(await h.confirmed(response.json().id)).toBe(true);
    const jobs = await h.drain(h.names.queues.work.email);
    expect(jobs.map((job) => job.payload.notificationId)).toEqual([response.json().id]);
  });
});
