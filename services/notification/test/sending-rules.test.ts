import { MessageTypes, createMessage } from '@herald/contracts';
import { waitFor } from '@herald/test-support';
import { owedMessages } from '../src/outbox/domain/outbox';
import { startHarness, type Harness, type Json, type TestUserSnapshot } from './harness';

/*
 * Who may send what to whom (issue 16): email and SMS only to verified
 * addresses, an address attributed to a user only once they verified it,
 * raw html and system templates for admins, header values on one line,
 * SMS only to valid numbers of allowed countries.
 */
describe('sending rules', () => {
  let h: Harness;
  const admin = () => h.token('root', 'admin');
  const send = (body: Json, token = admin()) => h.request('POST', '/api/v1/notifications', { token, body });
  const base = { title: 'Hello', body: 'There' };
  const stored = (id: string): Promise<Json> => h.models.notifications.findById(id).lean();
  const notificationsTo = (userId: string) =>
    h.models.notifications.countDocuments({ 'recipient.userId': userId });
  const jobFor = async (queue: string, id: string): Promise<Json> => {
    const seen: Json[] = [];
    return waitFor(
      async () => {
        seen.push(...(await h.drain(queue)));
        return seen.find((job) => job.payload.notificationId === id);
      },
      { description: `the job of ${id} on ${queue}` },
    );
  };

  beforeAll(async () => {
    h = await startHarness('notif-sending-rules', { settings: { smsAllowList: ['+1'] } });
  });
  afterAll(() => h.close());

  describe('email and SMS go only to verified addresses', () => {
    it('refuses the email channel to a user whose address is not verified, whoever sends', async () => {
      const user = await h.registerUser({ emailVerified: false });
      const own = await send(
        { ...base, recipient: { userId: user.userId }, channels: ['in_app', 'email'] },
        h.token(user.userId),
      );
      expect(own.statusCode).toBe(422);
      expect(own.json()).toMatchObject({
        code: 'address_unverified',
        detail: expect.stringContaining('email channel'),
        errors: [{ field: '/body/channels/1', message: expect.stringContaining('not verified') }],
      });
      // Naming the address itself changes nothing.
      const byAddress = await send(
        { ...base, recipient: { email: user.email }, channels: ['email'] },
        h.token(user.userId),
      );
      expect(byAddress.statusCode).toBe(422);
      expect(byAddress.json().code).toBe('address_unverified');
      const fromAdmin = await send({ ...base, recipient: { userId: user.userId }, channels: ['email'] });
      expect(fromAdmin.statusCode).toBe(422);
      expect(await notificationsTo(user.userId)).toBe(0);

      // In-app needs no address.
      const inApp = await send(
        { ...base, recipient: { userId: user.userId }, channels: ['in_app'] },
        h.token(user.userId),
      );
      expect(inApp.statusCode).toBe(202);
    });

    it('sends SMS only to a number the user verified, and not to one changed since', async () => {
      const user = await h.registerUser({ phone: '+14155550170', phoneVerified: false });
      const sms = { ...base, recipient: { userId: user.userId }, channels: ['in_app', 'sms'] };
      const unverified = await send(sms, h.token(user.userId));
      expect(unverified.statusCode).toBe(422);
      expect(unverified.json()).toMatchObject({
        code: 'address_unverified',
        detail: expect.stringContaining('sms channel'),
        errors: [{ field: '/body/channels/1' }],
      });
      expect(await notificationsTo(user.userId)).toBe(0);

      // Auth reports the code entered: the number is the user's now.
      await updateUser({ ...user, phoneVerified: true }, 1);
      await waitFor(async () => (await h.models.users.findById(user.userId).lean())?.phoneVerified === true, {
        description: 'the verified phone in the read model',
      });
      const verified = await send(sms, h.token(user.userId));
      expect(verified.statusCode).toBe(202);
      expect((await jobFor(h.names.queues.work.sms, verified.json().id)).payload.recipient.phone).toBe(
        '+14155550170',
      );

      // A new number in the profile is unverified until proven (auth sends no phoneVerified for it).
      const { phoneVerified: _was, ...changed } = { ...user, phone: '+14155550171' };
      await updateUser(changed, 2);
      await waitFor(
        async () => (await h.models.users.findById(user.userId).lean())?.phone === '+14155550171',
        {
          description: 'the changed phone in the read model',
        },
      );
      const again = await send(sms, h.token(user.userId));
      expect(again.statusCode).toBe(422);
      expect(again.json().code).toBe('address_unverified');
    });
  });

  describe('an address belongs to a user only once they verified it', () => {
    it('sends to an email address as an outside address when its holder has not verified it', async () => {
      const squatter = await h.registerUser({ email: 'ceo@victim.example', emailVerified: false });
      const response = await send({
        ...base,
        recipient: { email: 'ceo@victim.example' },
        channels: ['email'],
      });
      expect(response.statusCode).toBe(202);
      const record = await stored(response.json().id);
      expect(record.userId).toBeNull();
      expect(record.recipient).toEqual({ email: 'ceo@victim.example' });
      expect(owedMessages(record, new Date()).map((entry) => entry.kind)).toEqual(['job']);
      const inbox = await h.request('GET', '/api/v1/notifications', { token: h.token(squatter.userId) });
      expect(inbox.json().items).toEqual([]);

      // Once someone verified the address, it is theirs.
      const owner = await h.registerUser({ email: 'cfo@victim.example' });
      const owned = await send({ ...base, recipient: { email: 'cfo@victim.example' }, channels: ['email'] });
      expect((await stored(owned.json().id)).userId).toBe(owner.userId);
    });

    it('sends to a phone number as an outside number when its holder has not verified it', async () => {
      const squatter = await h.registerUser({ phone: '+14155550180', phoneVerified: false });
      const response = await send({ ...base, recipient: { phone: '+14155550180' }, channels: ['sms'] });
      expect(response.statusCode).toBe(202);
      const record = await stored(response.json().id);
      expect(record.userId).toBeNull();
      expect(record.recipient).toEqual({ phone: '+14155550180' });
      const inbox = await h.request('GET', '/api/v1/notifications', { token: h.token(squatter.userId) });
      expect(inbox.json().items).toEqual([]);

      const owner = await h.registerUser({ phone: '+14155550181' });
      const owned = await send({ ...base, recipient: { phone: '+14155550181' }, channels: ['sms'] });
      expect((await stored(owned.json().id)).userId).toBe(owner.userId);
    });
  });

  describe('raw html and system templates are for admins', () => {
    it('refuses raw html from a user with 403 raw_html_forbidden, and sends an admin’s', async () => {
      const user = await h.registerUser();
      const body = {
        ...base,
        html: '<p>Your account is locked. <a href="https://evil.example">Unlock it</a></p>',
        recipient: { userId: user.userId },
        channels: ['email'],
      };
      const refused = await send(body, h.token(user.userId));
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('raw_html_forbidden');
      expect(await notificationsTo(user.userId)).toBe(0);
      expect((await send(body)).statusCode).toBe(202);
    });

    it('refuses a system template from a user with 403 system_template_forbidden, and sends an admin’s', async () => {
      const user = await h.registerUser();
      const body = {
        recipient: { userId: user.userId },
        channels: ['email'],
        template: {
          key: 'password-reset',
          data: { name: 'Ada', link: 'https://evil.example/reset', expiresAt: '2030-01-01T00:00:00Z' },
        },
      };
      const refused = await send(body, h.token(user.userId));
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({
        code: 'system_template_forbidden',
        detail: expect.stringContaining('password-reset'),
      });
      expect(await notificationsTo(user.userId)).toBe(0);
      expect((await send(body)).statusCode).toBe(202);
    });
  });

  describe('header values are one line', () => {
    it('stores and sends a title and a recipient name with line breaks and controls as one line', async () => {
      const user = await h.registerUser({ name: 'Eve\r\nBcc: all@victim.example' });
      const response = await send({
        ...base,
        title: '  Invoice\r\nBcc: all@victim.example\u2028\u2029Re:\t\u0000 paid \n',
        recipient: { userId: user.userId },
        channels: ['in_app', 'email'],
      });
      expect(response.statusCode).toBe(202);
      const id = response.json().id;
      const record = await stored(id);
      expect(record.title).toBe('Invoice Bcc: all@victim.example Re: paid');
      expect(record.recipient.name).toBe('Eve Bcc: all@victim.example');
      const job = await jobFor(h.names.queues.work.email, id);
      expect(job.payload.content.subject).toBe('Invoice Bcc: all@victim.example Re: paid');
      expect(job.payload.recipient.name).toBe('Eve Bcc: all@victim.example');
      // The body is not a header: its lines stay.
      expect(job.payload.content.text).toBe('There');
    });

    it('renders a template subject with control characters from data as one line', async () => {
      const created = await h.request('POST', '/api/v1/templates', {
        token: admin(),
        body: {
          key: 'one-line-subject',
          channels: ['email'],
          defaultLocale: 'en',
          variables: { type: 'object', properties: { topic: { type: 'string' } }, required: ['topic'] },
          locales: { en: { subject: 'About {{topic}}', text: 'Body' } },
        },
      });
      expect(created.statusCode).toBe(201);
      const user = await h.registerUser();
      const response = await send({
        recipient: { userId: user.userId },
        channels: ['email'],
        template: { key: 'one-line-subject', data: { topic: 'tax\u0085Bcc: x@y\u0007now' } },
      });
      expect(response.statusCode).toBe(202);
      const id = response.json().id;
      expect((await stored(id)).rendered.email.subject).toBe('About tax Bcc: x@y now');
      expect((await jobFor(h.names.queues.work.email, id)).payload.content.subject).toBe(
        'About tax Bcc: x@y now',
      );
    });

    it('refuses a title made only of line breaks', async () => {
      const user = await h.registerUser();
      const response = await send({
        title: '\r\n\u2028',
        body: 'x',
        recipient: { userId: user.userId },
        channels: ['in_app'],
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        { field: '/body/title', message: 'must contain visible text' },
      ]);
    });
  });

  describe('SMS goes only to valid numbers of the allowed countries', () => {
    it('refuses a number outside SMS_ALLOWED_COUNTRIES and one that is not a valid number', async () => {
      const france = await send({ ...base, recipient: { phone: '+33612345678' }, channels: ['sms'] });
      expect(france.statusCode).toBe(422);
      expect(france.json()).toMatchObject({
        code: 'sms_country_not_allowed',
        detail: expect.stringContaining('+33 (FR)'),
      });
      const invalid = await send({ ...base, recipient: { phone: '+1415555' }, channels: ['sms'] });
      expect(invalid.statusCode).toBe(422);
      expect(invalid.json().code).toBe('invalid_number');

      // A user's own verified number abroad is refused too.
      const abroad = await h.registerUser({ phone: '+4915112345678' });
      const own = await send(
        { ...base, recipient: { userId: abroad.userId }, channels: ['sms'] },
        h.token(abroad.userId),
      );
      expect(own.statusCode).toBe(422);
      expect(own.json().code).toBe('sms_country_not_allowed');
      expect(await notificationsTo(abroad.userId)).toBe(0);

      const canada = await send({ ...base, recipient: { phone: '+16135550123' }, channels: ['sms'] });
      expect(canada.statusCode).toBe(202);
    });
  });

  it('broadcasts email and SMS only to verified addresses and allowed numbers', async () => {
    const unverifiedEmail = await h.registerUser({ emailVerified: false });
    const unverifiedPhone = await h.registerUser({ phone: '+14155550190', phoneVerified: false });
    const abroad = await h.registerUser({ phone: '+33612345679' });
    const verified = await h.registerUser({ phone: '+14155550191' });
    const started = await h.request('POST', '/api/v1/notifications/broadcast', {
      token: admin(),
      body: { ...base, audience: { all: true }, channels: ['email', 'sms'] },
    });
    expect(started.statusCode).toBe(202);
    const broadcastId = started.json().id;
    await waitFor(
      async () =>
        (await h.request('GET', `/api/v1/notifications/broadcast/${broadcastId}`, { token: admin() })).json()
          .state === 'completed',
      { description: 'the broadcast completed' },
    );
    const channelsOf = async (user: TestUserSnapshot) =>
      (await h.models.notifications.findOne({ broadcastId, userId: user.userId }).lean())?.channels ?? null;
    expect(await channelsOf(unverifiedEmail)).toBeNull();
    expect(await channelsOf(unverifiedPhone)).toEqual(['email']);
    expect(await channelsOf(abroad)).toEqual(['email']);
    expect(await channelsOf(verified)).toEqual(['email', 'sms']);
  });

  async function updateUser(snapshot: TestUserSnapshot, secondsLater: number) {
    await h.publishEvent(
      'user.updated',
      createMessage(MessageTypes.userUpdated, snapshot, {
        correlationId: 'auth',
        occurredAt: new Date(Date.now() + secondsLater * 1000),
      }),
    );
  }
});
