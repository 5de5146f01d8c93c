import { Headers } from '@herald/contracts';
import { field } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { MAX_SUBJECT_LENGTH } from '../src/providers/header-values';
import { emailJob, smsJob, startHarness, testSettings, type WorkerHarness } from './harness';

/** Anything a mail system might read as the end of a header line, or another control character. */
const LINE_BREAKING = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/**
 * The To value as one RFC 5322 mailbox, or undefined when it is anything else: a display name
 * (a plain phrase, or a quoted-string whose only escapes are `\"` and `\\`) and one `<address>`.
 * A value that adds an address, a group or a header line does not match.
 */
function parseMailbox(value: string): { name?: string; address: string } | undefined {
  const match =
    /^(?:"((?:[^"\\\p{Cc}\p{Zl}\p{Zp}]|\\["\\])*)"|([A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+)) <([^<>\s",;:]+@[^<>\s",;:@]+)>$/u.exec(
      value,
    );
  if (match) return { name: match[1]?.replace(/\\(["\\])/g, '$1') ?? match[2], address: match[3]! };
  return /^[^<>\s",;:\p{Cc}]+@[^<>\s",;:@\p{Cc}]+$/u.test(value) ? { address: value } : undefined;
}

describe('abuse guards: header values from job data reach Mailgun on one line', () => {
  let world: WorkerHarness;

  beforeAll(async () => {
    world = await startHarness('abuse-guards-email');
    await world.startApp();
  });
  afterAll(() => world.close());
  beforeEach(() => world.mailgun.reset());

  async function sentFields(job: ReturnType<typeof emailJob>) {
    await world.publishJobs([job]);
    await world.waitForStatus(job.notificationId, 'sent');
    expect(world.mailgun.accepted).toHaveLength(1);
    return world.mailgun.accepted[0]!;
  }

  it.each([
    ['CR LF', 'Invoice\r\nBcc: victim@example.com', 'Invoice Bcc: victim@example.com'],
    ['bare LF and CR', 'a\nb\rc', 'a b c'],
    ['a run with whitespace around it', 'a \t\r\n\r\n  b', 'a b'],
    ['U+2028 and U+2029', 'a\u2028Bcc: victim@example.com\u2029b', 'a Bcc: victim@example.com b'],
    ['NUL, DEL, NEL and other controls', 'a\u0000b\u007fc\u0085d\u001be', 'a b c d e'],
    ['leading and trailing breaks', '\r\n Hello \u2028', 'Hello'],
  ])('collapses %s in the subject to one space', async (_, subject, expected) => {
    const request = await sentFields(emailJob({ content: { subject, text: 'Body' } }));
    expect(request.fields.subject).toEqual([expected]);
  });

  it('takes a derived subject from the first line only, whatever breaks it, without controls', async () => {
    const text = '\u0000Reset\u0000 your password\u2028Bcc: victim@example.com\nThe link: …';
    const request = await sentFields(emailJob({ content: { text } }));
    expect(request.fields.subject).toEqual(['Reset your password']);
  });

  it('falls back to the text when the subject is nothing but line breaks', async () => {
    const request = await sentFields(emailJob({ content: { subject: '\r\n\u2028', text: 'Hello Ada' } }));
    expect(request.fields.subject).toEqual(['Hello Ada']);
  });

  it(`cuts a subject to ${MAX_SUBJECT_LENGTH} characters, ending in an ellipsis`, async () => {
    const request = await sentFields(emailJob({ content: { subject: 'x'.repeat(5_000), text: 'Body' } }));
    const subject = field(request, 'subject')!;
    expect(Array.from(subject)).toHaveLength(MAX_SUBJECT_LENGTH);
    expect(subject).toBe(`${'x'.repeat(MAX_SUBJECT_LENGTH - 1)}…`);
  });

  it('never splits a surrogate pair when it cuts', async () => {
    const request = await sentFields(emailJob({ content: { subject: '📨'.repeat(2_000), text: 'Body' } }));
    expect(field(request, 'subject')).toBe(`${'📨'.repeat(MAX_SUBJECT_LENGTH - 1)}…`);
  });

  it.each([
    ['a header injection', 'Eve\r\nBcc: victim@example.com', '"Eve Bcc: victim@example.com"'],
    ['a second mailbox', '"a" <x@evil.test>, b', String.raw`"\"a\" <x@evil.test>, b"`],
    ['an address list', 'x@evil.test, y@evil.test; z@evil.test', '"x@evil.test, y@evil.test; z@evil.test"'],
    ['a group', 'friends: x@evil.test, y@evil.test;', '"friends: x@evil.test, y@evil.test;"'],
    ['an angle address', 'Eve <x@evil.test>', '"Eve <x@evil.test>"'],
    ['a backslash, a quote and NUL', 'back\\slash "q"\u0000end', String.raw`"back\\slash \"q\" end"`],
    ['a trailing backslash', 'Eve\\', String.raw`"Eve\\"`],
    ['an escape that would close the quotes', 'Eve\\", x@evil.test', String.raw`"Eve\\\", x@evil.test"`],
    ['U+2028 around a plain name', '\u2028Eve Smith\u2029', 'Eve Smith'],
  ])('quotes %s in the recipient name as one mailbox', async (_, name, display) => {
    const job = emailJob();
    job.recipient = { ...job.recipient, name };
    const request = await sentFields(job);

    expect(request.fields.to).toEqual([`${display} <${job.recipient.email}>`]);
    const mailbox = parseMailbox(request.fields.to![0]!);
    expect(mailbox).toBeDefined();
    expect(mailbox!.address).toBe(job.recipient.email);
    expect(mailbox!.name).not.toMatch(LINE_BREAKING);
    expect(request.recipient).toBe(job.recipient.email);
  });

  it('sends the bare address when the name is nothing but line breaks', async () => {
    const job = emailJob();
    job.recipient = { ...job.recipient, name: '\r\n\u0000' };
    const request = await sentFields(job);
    expect(request.fields.to).toEqual([job.recipient.email]);
  });

  it('bounds a long name, still as one quoted mailbox', async () => {
    const job = emailJob();
    job.recipient = { ...job.recipient, name: 'A'.repeat(1_000) };
    const request = await sentFields(job);
    expect(request.fields.to).toEqual([`"${'A'.repeat(199)}…" <${job.recipient.email}>`]);
  });

  it('puts tags and v: variables (which Mailgun writes into headers) on one line', async () => {
    const job = emailJob({
      category: 'news\r\nBcc: victim@example.com',
      metadata: {
        note: 'a\r\nBcc: victim@example.com',
        'key\r\nX-Evil': 'b\u2028c',
        // a key that sanitises to a reserved one still cannot overwrite the worker's own
        'channel\r\n': 'forged',
      },
    });
    const request = await sentFields(job);

    expect(request.fields['o:tag']).toEqual(['news Bcc: victim@example.com']);
    expect(request.fields['v:note']).toEqual(['a Bcc: victim@example.com']);
    expect(request.fields['v:key X-Evil']).toEqual(['b c']);
    expect(request.fields['v:channel']).toEqual(['email']);
    for (const [name, values] of Object.entries(request.fields)) {
      if (name === 'text' || name === 'html') continue;
      expect([name, ...values].filter((value) => LINE_BREAKING.test(value))).toEqual([]);
    }
  });

  it('refuses an SMS to a number that is not valid even when every country is allowed, without calling Twilio', async () => {
    world.twilio.reset();
    // matches the contracts' E.164 pattern, but 555-1234 in area code 555 is no real number
    const job = smsJob({ recipient: { phone: '+15551234567' } });
    await world.publishJobs([job]);
    const failed = await world.waitForStatus(job.notificationId, 'failed');

    expect(failed.error).toEqual({
      code: 'invalid_number',
      message: 'The number is not a valid phone number',
      permanent: true,
    });
    const deadLetter = await world.nextDeadLetter();
    expect(JSON.parse(deadLetter.content.toString()).payload.notificationId).toBe(job.notificationId);
    expect(deadLetter.properties.headers).toMatchObject({
      [Headers.deadLetterReason]: 'permanent_error',
      [Headers.errorCode]: 'invalid_number',
    });
    expect(world.twilio.requests).toHaveLength(0);
  });
});

describe('abuse guards: SMS only to the countries in SMS_ALLOWED_COUNTRIES', () => {
  let world: WorkerHarness;

  beforeAll(async () => {
    world = await startHarness('abuse-guards-sms');
    // the UK, and one area of the shared +1 calling code (Manitoba, Canada)
    await world.startApp({ settings: testSettings({ smsAllowList: ['+44', '+1204'] }) });
  });
  afterAll(() => world.close());
  beforeEach(() => world.twilio.reset());

  it.each([
    ['the US, inside +1 but outside +1204', '+12125551234', '+1 (US)'],
    ['France', '+33612345678', '+33 (FR)'],
  ])('fails an SMS to %s permanently: failed, in the DLQ, never sent to Twilio', async (_, phone, where) => {
    const job = smsJob({ recipient: { phone } });
    await world.publishJobs([job]);
    const failed = await world.waitForStatus(job.notificationId, 'failed');

    expect(failed).toMatchObject({ channel: 'sms', attempt: 1 });
    expect(failed.error).toEqual({
      code: 'sms_country_not_allowed',
      message: `SMS to ${where} is not allowed`,
      permanent: true,
    });
    const deadLetter = await world.nextDeadLetter();
    expect(JSON.parse(deadLetter.content.toString()).payload.notificationId).toBe(job.notificationId);
    expect(deadLetter.properties.headers).toMatchObject({
      [Headers.deadLetterReason]: 'permanent_error',
      [Headers.errorCode]: 'sms_country_not_allowed',
      [Headers.retryAttempts]: 0,
    });
    expect(world.twilio.requests).toHaveLength(0);
    // refused before the claim: no `sending`, no delivery record
    expect(world.statusesOf(job.notificationId).map((status) => status.status)).toEqual(['failed']);
    expect(await world.delivery(job.notificationId, 'sms')).toBeNull();
  });

  it.each([
    ['the UK', '+447911123456'],
    ['Manitoba', '+12042345678'],
  ])('sends an SMS to %s through Twilio', async (_, phone) => {
    const job = smsJob({ recipient: { phone } });
    await world.publishJobs([job]);
    await world.waitForStatus(job.notificationId, 'sent');
    await waitFor(() => world.twilio.accepted.length === 1);
    expect(field(world.twilio.accepted[0]!, 'To')).toBe(phone);
  });
});
