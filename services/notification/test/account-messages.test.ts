import { randomUUID } from 'node:crypto';
import { MessageTypes, createMessage } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { startHarness, type Harness, type Json } from './harness';

/*
 * auth → user.password_reset_requested / user.phone_verification_requested /
 * user.registration_attempted → this service renders the system template and
 * queues the delivery job. What the job carries is what the worker sends.
 */
describe("auth's account messages", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness('notif-account-messages');
  });
  afterAll(async () => h.close());

  const job = (queue: string, notificationOf: (job: Json) => boolean) =>
    waitFor(async () => (await h.drain(queue)).find(notificationOf), { description: `a job on ${queue}` });

  it('sends the password-reset email with the reset link, in the user language, once per event', async () => {
    const user = await h.registerUser({ locale: 'fr' });
    const event = createMessage(
      MessageTypes.userPasswordResetRequested,
      {
        userId: user.userId,
        email: 'marie@example.com',
        name: 'Marie',
        resetUrl: 'https://herald.example/reset?token=abc%2Fdef',
        expiresAt: '2030-05-04T10:15:00.000Z',
      },
      { correlationId: `auth-${randomUUID()}` },
    );
    await h.publishEvent('user.password_reset_requested', event);
    await h.publishEvent('user.password_reset_requested', event); // redelivered: sends nothing twice

    const email = await job(
      h.names.queues.work.email,
      (j) => j.payload.recipient.email === 'marie@example.com',
    );
    expect(email.payload.content.subject).toBe('Réinitialisez votre mot de passe');
    expect(email.payload.content.text).toContain('https://herald.example/reset?token=abc%2Fdef');
    expect(email.correlationId).toBe(event.correlationId);
    const stored = await h.models.notifications.find({ 'recipient.email': 'marie@example.com' }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ userId: null, category: 'account.password_reset' });
  });

  it('texts the phone verification code to the number being verified, not to the inbox', async () => {
    const user = await h.registerUser();
    const phone = '+14155550142';
    await h.publishEvent(
      'user.phone_verification_requested',
      createMessage(
        MessageTypes.userPhoneVerificationRequested,
        { userId: user.userId, phone, code: '482913', expiresAt: '2030-05-04T10:15:00.000Z' },
        { correlationId: `auth-${randomUUID()}` },
      ),
    );
    const sms = await job(h.names.queues.work.sms, (j) => j.payload.recipient.phone === phone);
    expect(sms.payload.content.sms).toBe(
      'Your Herald verification code is 482913. It expires in 10 minutes. Never share it.',
    );
    const stored = await h.models.notifications.findOne({ 'recipient.phone': phone }).lean();
    expect(stored).toMatchObject({ userId: null, category: 'account.phone_verification' });
  });

  it('tells the owner of an address that someone tried to register with it', async () => {
    const user = await h.registerUser({ locale: 'en' });
    await h.publishEvent(
      'user.registration_attempted',
      createMessage(
        MessageTypes.userRegistrationAttempted,
        { userId: user.userId, email: 'owner@example.com', name: 'Owner' },
        { correlationId: `auth-${randomUUID()}` },
      ),
    );
    const email = await job(
      h.names.queues.work.email,
      (j) => j.payload.recipient.email === 'owner@example.com',
    );
    expect(email.payload.content.subject).toBe('Someone tried to create an account with your address');
    expect(email.payload.content.text).toContain('Hello Owner,');
  });
});
