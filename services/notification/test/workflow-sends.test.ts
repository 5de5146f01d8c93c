import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { EventRoutingKeys, MessageTypes, createMessage, type WorkflowSendPayload } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * The notification service's half of workflows (issue 18): a run's
 * `workflow.send` becomes one notification under the id the run chose, sent
 * once however often the step fires; and `template.changed` tells the
 * workflows service which templates exist.
 */
describe('workflow sends and template announcements', () => {
  let h: Harness;
  const admin = () => h.token('root', 'admin');
  beforeAll(async () => {
    h = await startHarness('notif-workflow-sends');
    await h.upsertSubscriber('reader', { email: 'reader@example.org' });
    const created = await h.request('POST', '/api/v1/templates', {
      token: admin(),
      body: {
        key: 'wf-digest',
        channels: ['in_app', 'email'],
        defaultLocale: 'en',
        locales: {
          en: {
            subject: '{{events.length}} updates',
            text: '{{#each events}}{{this.title}};{{/each}}',
            inApp: { title: '{{events.length}} updates', body: 'see them' },
          },
        },
      },
    });
    expect(created.statusCode).toBe(201);
  });
  afterAll(() => h.close());

  function command(payload: Partial<WorkflowSendPayload> & Pick<WorkflowSendPayload, 'sender'>) {
    return createMessage(
      MessageTypes.workflowSend,
      {
        notificationId: new Types.ObjectId().toHexString(),
        runId: new Types.ObjectId().toHexString(),
        stepId: 'email',
        workflowKey: 'digest',
        recipient: { subscriberId: 'reader' },
        channel: 'email',
        template: { key: 'wf-digest', data: { events: [{ title: 'a' }, { title: 'b' }] } },
        transactionId: 'order-7',
        ...payload,
      },
      { correlationId: `wf-${randomUUID()}` },
    );
  }

  it('stores the step’s notification under the run’s id and sends its email once, however often the step fires', async () => {
    const key = await h.createApiKey(['notifications:send']);
    const message = command({
      sender: { kind: 'apikey', id: key.snapshot.keyId, role: 'user', scopes: ['notifications:send'] },
    });
    const id = message.payload.notificationId;
    await h.publishEvent(EventRoutingKeys.workflowSend, message);
    // fired again after a crash: a new message, the same notification id
    await h.publishEvent(EventRoutingKeys.workflowSend, { ...message, messageId: randomUUID() });

    const stored = await waitFor(() => h.stored(id), {
      description: 'the workflow notification',
      timeoutMs: 15_000,
    });
    expect(stored).toMatchObject({
      senderId: key.snapshot.keyId,
      transactionId: 'order-7',
      channels: ['email'],
    });
    expect(stored.rendered.email).toMatchObject({ subject: '2 updates', text: 'a;b;' });
    const jobs: Json[] = [];
    await waitFor(async () => {
      jobs.push(...(await h.drain(h.names.queues.work.email)));
      return jobs.length >= 1;
    });
    // both commands handled (the queue is empty, nothing unacked) before counting
    await waitFor(async () => (await h.messageCount(h.names.queues.notificationEvents)) === 0);
    await h.app.relay.runOnce();
    jobs.push(...(await h.drain(h.names.queues.work.email)));
    expect(jobs.map((job) => job.payload.notificationId)).toEqual([id]);
    expect(await h.models.notifications.countDocuments({ _id: id })).toBe(1);
  });

  /** What was drained from each tap and not yet asked for (another run's answer, drained with the one wanted). */
  const heldBack = new Map<string, Json[]>();

  /** The `workflow.step.refused` answers on `tap` for one run, once `count` have come. */
  async function refusals(tap: string, runId: string, count: number): Promise<Json[]> {
    const got: Json[] = [];
    const take = (events: Json[]) => {
      const others: Json[] = [];
      for (const event of events) (event.payload.runId === runId ? got : others).push(event);
      heldBack.set(tap, others);
    };
    take(heldBack.get(tap) ?? []);
    await waitFor(
      async () => {
        take([...(heldBack.get(tap) ?? []), ...(await h.drain(tap))]);
        return got.length >= count;
      },
      { description: `${count} refusal(s) of run ${runId}`, timeoutMs: 15_000 },
    );
    return got;
  }

  it('sends nothing for a revoked key, and tells the run why (workflow.step.refused), on every redelivery', async () => {
    const tap = await h.tapEvents(EventRoutingKeys.workflowStepRefused);
    const key = await h.createApiKey(['notifications:send']);
    await h.publishApiKey({ ...key.snapshot, revokedAt: new Date().toISOString(), revision: 2 });
    const message = command({
      sender: { kind: 'apikey', id: key.snapshot.keyId, role: 'admin', scopes: ['admin'] },
    });
    await h.publishEvent(EventRoutingKeys.workflowSend, message);
    const [refused] = await refusals(tap, message.payload.runId, 1);
    expect(refused).toMatchObject({
      type: 'workflow.step.refused',
      correlationId: message.correlationId,
      payload: {
        runId: message.payload.runId,
        stepId: 'email',
        notificationId: message.payload.notificationId,
        code: 'sender_key_invalid',
        reason: expect.stringContaining(key.snapshot.keyId),
      },
    });
    // redelivered (the workflows side applies the answer once): answered again, still nothing stored
    await h.publishEvent(EventRoutingKeys.workflowSend, { ...message, messageId: randomUUID() });
    await refusals(tap, message.payload.runId, 1);
    // the answer is the outcome: acknowledged, not dead-lettered
    expect(await h.models.deadLetters.countDocuments({ messageId: message.messageId })).toBe(0);
    expect(await h.stored(message.payload.notificationId)).toBeNull();
  });

  it('refuses a step naming an unknown category or a template that is gone, naming the reason', async () => {
    const tap = await h.tapEvents(EventRoutingKeys.workflowStepRefused);
    const key = await h.createApiKey(['notifications:send']);
    const sender: WorkflowSendPayload['sender'] = {
      kind: 'apikey',
      id: key.snapshot.keyId,
      role: 'user',
      scopes: ['notifications:send'],
    };
    const uncategorised = command({ sender, category: 'no-such-category' });
    const templateless = command({ sender, template: { key: 'no-such-template', data: {} } });
    await h.publishEvent(EventRoutingKeys.workflowSend, uncategorised);
    await h.publishEvent(EventRoutingKeys.workflowSend, templateless);
    const [category] = await refusals(tap, uncategorised.payload.runId, 1);
    const [template] = await refusals(tap, templateless.payload.runId, 1);
    expect(category.payload.reason).toContain('no-such-category');
    expect(template.payload.reason).toContain('no-such-template');
    expect(await h.stored(uncategorised.payload.notificationId)).toBeNull();
    expect(await h.stored(templateless.payload.notificationId)).toBeNull();
  });

  it("sends on to the workflows service the events of its runs' notifications, and of no other", async () => {
    const { userId } = await h.registerUser();
    const key = await h.createApiKey(['notifications:send']);
    const seen = await h.tapEvents('notification.*', EventRoutingKeys.notificationsCreated);
    const message = command({
      sender: { kind: 'apikey', id: key.snapshot.keyId, role: 'user', scopes: ['notifications:send'] },
      recipient: { userId },
      channel: 'in_app',
      stepId: 'inbox',
    });
    const fromRun = message.payload.notificationId;
    await h.publishEvent(EventRoutingKeys.workflowSend, message);
    await waitFor(() => h.stored(fromRun), { description: 'the run’s notification' });
    const plain = await h.request('POST', '/api/v1/notifications', {
      token: admin(),
      body: { title: 'T', body: 'B', recipient: { userId }, channels: ['in_app'] },
    });
    expect(plain.statusCode).toBe(202);
    const plainId = plain.json().id as string;
    for (const id of [fromRun, plainId]) {
      const read = await h.request('PATCH', `/api/v1/notifications/${id}`, {
        token: h.token(userId),
        body: { read: true },
      });
      expect(read.statusCode).toBe(200);
    }

    // every event of both published (created and read, each) before looking at what the runs' queue got
    const published: Json[] = [];
    await waitFor(
      async () => {
        await h.app.relay.runOnce();
        published.push(...(await h.drain(seen)));
        return published.length >= 4;
      },
      { description: 'created and read of both notifications' },
    );
    const ofRuns = await h.drain(h.names.durableQueues.workflowEvents);
    const kinds = ofRuns.flatMap((event) => {
      const id =
        event.type === 'notification.created' ? event.payload.notification.id : event.payload.notificationId;
      // the queue also carries templates, API keys, and the earlier tests' run notifications
      return id === fromRun || id === plainId ? [`${event.type} ${id}`] : [];
    });
    // the relay and the read race: either order
    expect(kinds.sort()).toEqual([`notification.created ${fromRun}`, `notification.updated ${fromRun}`]);
    expect(await h.stored(fromRun)).toMatchObject({ workflowRunId: message.payload.runId });
  });

  it('tells the workflows service of each new template version and of its deletion, and stays quiet in between', async () => {
    // the shipped system templates were announced at start
    expect(
      await h.models.templateAnnouncements.exists({ _id: 'verify-email', deleted: false }),
    ).not.toBeNull();
    const tap = await h.tapEvents(EventRoutingKeys.templateChanged);
    const edited = await h.request('PATCH', '/api/v1/templates/wf-digest', {
      token: admin(),
      body: { channels: ['email'] },
    });
    expect(edited.statusCode).toBe(200);
    await h.app.relay.runOnce();
    const announced = await waitFor(async () => {
      const drained = await h.drain(tap);
      return drained.length > 0 ? drained : undefined;
    });
    await h.app.relay.runOnce();
    announced.push(...(await h.drain(tap)));
    // at least once (two passes racing may both publish it; the consumer keeps the newest version)
    expect(
      new Set(announced.map((event: Json) => JSON.stringify({ ...event.payload, at: undefined }))),
    ).toEqual(
      new Set([JSON.stringify({ key: 'wf-digest', version: 2, channels: ['email'], deleted: false })]),
    );
    await h.app.relay.runOnce();
    expect(await h.drain(tap)).toEqual([]);

    const deleted = await h.request('DELETE', '/api/v1/templates/wf-digest', { token: admin() });
    expect(deleted.statusCode).toBe(204);
    await h.app.relay.runOnce();
    const gone = await waitFor(async () => {
      const drained = await h.drain(tap);
      return drained.length > 0 ? drained : undefined;
    });
    expect(gone.map((event: Json) => event.payload)).toContainEqual(
      expect.objectContaining({ key: 'wf-digest', version: 2, deleted: true }),
    );
  });
});
