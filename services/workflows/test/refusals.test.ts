import {
  EventRoutingKeys,
  MessageTypes,
  createMessage,
  type WorkflowRunChangedMessage,
  type WorkflowSendMessage,
  type WorkflowStepRefusedPayload,
} from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { recordRefusal } from '../src/runs/domain/refusals';
import { startHarness, type Harness, type Json } from './harness';

/*
 * A step the notification service refuses for good (`workflow.step.refused`,
 * its half: services/notification/test/workflow-sends.test.ts): the run
 * records the step refused with the reason, ends `failed`, announces it, and
 * sends nothing more. Real broker and database, the clock moved by the test.
 */
describe('refused steps', () => {
  let h: Harness;
  let clock = Date.parse('2026-07-01T09:00:00.000Z');
  const now = () => new Date(clock);
  const minutes = (n: number) => n * 60_000;
  let key: string;
  let sends: string;
  let changes: string;

  beforeAll(async () => {
    h = await startHarness('wf-refusals', { now });
    await h.announceTemplate('nudge', ['in_app', 'email']);
    key = (await h.createApiKey(['notifications:send'])).key;
    sends = await h.tapSends();
    changes = await h.tap(EventRoutingKeys.workflowRunChanged);
    const admin = h.token('root', 'admin');
    for (const body of [
      {
        key: 'escalation',
        steps: [
          { id: 'inbox', type: 'channel', channel: 'in_app', template: 'nudge' },
          { id: 'wait', type: 'delay', duration: '30m' },
          { id: 'mail', type: 'channel', channel: 'email', template: 'nudge' },
        ],
      },
      { key: 'instant', steps: [{ id: 'mail', type: 'channel', channel: 'email', template: 'nudge' }] },
    ]) {
      const response = await h.request('POST', '/api/v1/workflows', { token: admin, body });
      expect(response.statusCode).toBe(201);
    }
  });
  afterAll(() => h.close());

  async function trigger(workflow: string): Promise<string> {
    const response = await h.request('POST', `/api/v1/workflows/${workflow}/trigger`, {
      token: key,
      body: { recipients: [{ subscriberId: 'reader' }] },
    });
    expect(response.statusCode).toBe(202);
    return response.json().runs[0].id as string;
  }

  async function sent(runId: string) {
    return (await h.drain<WorkflowSendMessage>(sends))
      .map((message) => message.payload)
      .filter((payload) => payload.runId === runId);
  }

  /** The notification service's answer, over the broker as it publishes it. */
  async function refuse(payload: WorkflowStepRefusedPayload) {
    await h.publishEvent(
      EventRoutingKeys.workflowStepRefused,
      createMessage(MessageTypes.workflowStepRefused, payload, { correlationId: `run:${payload.runId}` }),
    );
  }

  async function statuses(runId: string) {
    await h.app.poller.runOnce();
    return (await h.drain<WorkflowRunChangedMessage>(changes))
      .filter((message) => message.payload.runId === runId)
      .map((message) => message.payload.status);
  }

  it('ends the run failed with the reason while it waits, and nothing more goes out', async () => {
    const runId = await trigger('escalation');
    await h.advance();
    const [inbox] = await sent(runId);
    expect(inbox!.stepId).toBe('inbox');
    expect(await statuses(runId)).toEqual(['active']);

    clock += minutes(1);
    const refusal = {
      runId,
      stepId: 'inbox',
      notificationId: inbox!.notificationId,
      code: 'sender_key_invalid',
      reason: 'API key k1 is unknown, revoked or expired',
      at: now().toISOString(),
    };
    await refuse(refusal);
    await waitFor(async () => (await h.run(runId)).status === 'failed', {
      description: 'the run failed',
    });
    const detail: Json = await h.run(runId);
    expect(detail.steps.at(-1)).toMatchObject({
      stepId: 'inbox',
      type: 'channel',
      outcome: 'refused',
      notificationId: inbox!.notificationId,
      detail: 'sender_key_invalid: API key k1 is unknown, revoked or expired',
    });
    expect(detail.notifications).toEqual([
      {
        stepId: 'inbox',
        channel: 'in_app',
        notificationId: inbox!.notificationId,
        refused: { code: 'sender_key_invalid', reason: refusal.reason, at: refusal.at },
      },
    ]);
    expect(detail.endedAt).toBe(now().toISOString());
    expect(await statuses(runId)).toEqual(['failed']);

    // the delay's time comes: nothing is sent
    clock += minutes(30);
    await h.advance();
    await h.advance();
    expect(await sent(runId)).toEqual([]);

    // redelivered (the notification service answers every redelivery of the send): applied once
    await recordRefusal(h.app.context, refusal);
    await recordRefusal(h.app.context, { ...refusal, at: now().toISOString() });
    const again: Json = await h.run(runId);
    expect(again.steps.filter((step: Json) => step.outcome === 'refused')).toHaveLength(1);
    expect(again.status).toBe('failed');
    expect(await statuses(runId)).toEqual([]);
  });

  it('corrects a run that completed on the refused send to failed, announced after its completed', async () => {
    const runId = await trigger('instant');
    await h.advance();
    const [mail] = await sent(runId);
    expect((await h.run(runId)).status).toBe('completed');
    expect(await statuses(runId)).toEqual(['active', 'completed']);

    await refuse({
      runId,
      stepId: 'mail',
      notificationId: mail!.notificationId,
      code: 'validation_failed',
      reason: 'Unknown category "billing"',
      at: now().toISOString(),
    });
    await waitFor(async () => (await h.run(runId)).status === 'failed', { description: 'the run failed' });
    expect(await statuses(runId)).toEqual(['failed']);
  });

  it('ignores a refusal naming a notification the run never made', async () => {
    const runId = await trigger('instant');
    await h.advance();
    await sent(runId);
    await recordRefusal(h.app.context, {
      runId,
      stepId: 'mail',
      notificationId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
      code: 'sender_key_invalid',
      reason: 'not this run’s',
      at: now().toISOString(),
    });
    expect((await h.run(runId)).status).toBe('completed');
  });
});
