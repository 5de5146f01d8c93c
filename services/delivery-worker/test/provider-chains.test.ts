import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { loadConfig } from '@herald/runtime';
import { testLogger } from '@herald/test-support';
import { DeliveryWorkerEnv, providerChainsFrom } from '../src/config';
import { createProviders } from '../src/providers/create-providers';
import { MailgunProvider } from '../src/providers/mailgun';
import { SendGridProvider } from '../src/providers/sendgrid';
import { SmtpProvider } from '../src/providers/smtp';
import { TwilioProvider } from '../src/providers/twilio';
import { PushNotConfigured, WebPushProvider } from '../src/providers/push';

const config = (env: Record<string, string>) => loadConfig('delivery-worker', DeliveryWorkerEnv, env);

const MAILGUN = { MAILGUN_API_KEY: 'key', MAILGUN_DOMAIN: 'mg.example.com' };
const SMTP = { SMTP_HOST: 'smtp.example.com', SMTP_FROM: 'noreply@example.com' };
const SENDGRID = { SENDGRID_API_KEY: 'SG.key', SENDGRID_FROM: 'noreply@example.com' };
const VAPID = {
  VAPID_PUBLIC_KEY: `B${'A'.repeat(86)}`,
  VAPID_PRIVATE_KEY: 'A'.repeat(43),
  VAPID_SUBJECT: 'mailto:ops@example.com',
};
const TWILIO = {
  TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 't',
  TWILIO_FROM: '+15005550001',
};

describe('provider chains from the configuration', () => {
  it('builds each chain in the order given, one client per provider', () => {
    const providers = createProviders(
      config({
        NODE_ENV: 'production',
        ...MAILGUN,
        ...SMTP,
        ...SENDGRID,
        ...TWILIO,
        EMAIL_PROVIDERS: 'mailgun, smtp,SendGrid',
        SMS_PROVIDERS: 'twilio',
      }),
      testLogger(),
    );
    expect(providers.email.map((provider) => provider.constructor)).toEqual([
      MailgunProvider,
      SmtpProvider,
      SendGridProvider,
    ]);
    expect(providers.email.map((provider) => provider.name)).toEqual(['mailgun', 'smtp', 'sendgrid']);
    expect(providers.sms.map((provider) => provider.constructor)).toEqual([TwilioProvider]);
    (providers.email[1] as SmtpProvider).close();
  });

  it('keeps the one-provider default when no chain is given', () => {
    expect(providerChainsFrom(config({ ...MAILGUN, ...TWILIO, ...VAPID }))).toEqual({
      email: ['mailgun'],
      sms: ['twilio'],
      push: ['webpush'],
    });
    expect(providerChainsFrom(config({ NODE_ENV: 'development' }))).toEqual({
      email: ['log'],
      sms: ['log'],
      push: ['log'],
    });
  });

  it.each([
    [{ EMAIL_PROVIDERS: 'mailgun,postmark' }, /EMAIL_PROVIDERS: unknown provider "postmark"/],
    [{ SMS_PROVIDERS: 'twilio,vonage' }, /SMS_PROVIDERS: unknown provider "vonage"/],
    [{ EMAIL_PROVIDERS: 'twilio' }, /EMAIL_PROVIDERS: unknown provider "twilio"/],
    [{ EMAIL_PROVIDERS: ' , ' }, /EMAIL_PROVIDERS lists no provider/],
    [{ SMS_PROVIDERS: ',' }, /SMS_PROVIDERS lists no provider/],
    [{ EMAIL_PROVIDERS: 'mailgun,mailgun' }, /EMAIL_PROVIDERS names mailgun twice/],
    [
      { EMAIL_PROVIDERS: 'mailgun,smtp' },
      /EMAIL_PROVIDERS names smtp, but SMTP_HOST and SMTP_FROM are not set/,
    ],
    [
      { EMAIL_PROVIDERS: 'sendgrid', SENDGRID_API_KEY: 'SG.k' },
      /EMAIL_PROVIDERS names sendgrid, but SENDGRID_FROM is not set/,
    ],
    [{ PUSH_PROVIDERS: 'webpush,apns' }, /PUSH_PROVIDERS: unknown provider "apns"/],
    [{ PUSH_PROVIDERS: ' ' }, /PUSH_PROVIDERS lists no provider/],
    [
      { PUSH_PROVIDERS: 'webpush' },
      /PUSH_PROVIDERS names webpush, but VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY and VAPID_SUBJECT are not set/,
    ],
    [
      { VAPID_PUBLIC_KEY: VAPID.VAPID_PUBLIC_KEY },
      /VAPID_PRIVATE_KEY and VAPID_SUBJECT must be set with the other VAPID variables/,
    ],
    [
      { SMS_PROVIDERS: 'twilio', EMAIL_PROVIDERS: 'mailgun' },
      /SMS_PROVIDERS names twilio, but TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set/,
    ],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() =>
      createProviders(config({ NODE_ENV: 'development', ...MAILGUN, ...env }), testLogger()),
    ).toThrow(message);
  });

  it('builds the push chain, and lets production start without VAPID keys (push then fails, not the worker)', () => {
    const withPush = createProviders(
      config({ NODE_ENV: 'production', ...MAILGUN, ...TWILIO, ...VAPID }),
      testLogger(),
    );
    expect(withPush.push.map((provider) => provider.constructor)).toEqual([WebPushProvider]);
    const without = createProviders(config({ NODE_ENV: 'production', ...MAILGUN, ...TWILIO }), testLogger());
    expect(without.push.map((provider) => provider.constructor)).toEqual([PushNotConfigured]);
    expect(() =>
      createProviders(
        config({ NODE_ENV: 'production', ...MAILGUN, ...TWILIO, PUSH_PROVIDERS: 'log' }),
        testLogger(),
      ),
    ).toThrow(/PUSH_PROVIDERS names log: push cannot be sent, and the log provider is refused in production/);
  });

  it('refuses the log provider in a production chain', () => {
    expect(() =>
      createProviders(
        config({ NODE_ENV: 'production', ...MAILGUN, ...TWILIO, EMAIL_PROVIDERS: 'mailgun,log' }),
        testLogger(),
      ),
    ).toThrow(
      /EMAIL_PROVIDERS names log: email cannot be sent, and the log provider is refused in production/,
    );
  });

  it('stops a real worker process at start, naming the variable', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@herald/source', '--import', 'tsx', 'services/delivery-worker/src/server.ts'],
      {
        cwd: resolve(__dirname, '../../..'),
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          ...MAILGUN,
          EMAIL_PROVIDERS: 'mailgun,carrier-pigeon',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(output).toMatch(/EMAIL_PROVIDERS: unknown provider "carrier-pigeon"/);
  }, 60_000);
});
