import { createLogger, loadConfig } from '@herald/runtime';
import { DeliveryWorkerEnv } from '../src/config';
import { createProviders } from '../src/providers/create-providers';
import { emailJob, smsJob } from './harness';

const config = (env: Record<string, string>) => loadConfig('delivery-worker', DeliveryWorkerEnv, env);

/** A real pino logger (with the runtime's redaction) writing its JSON lines into an array. */
function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger(
    { name: 'delivery-worker', level: 'info', format: 'json' },
    { write: (line: string) => void lines.push(line) },
  );
  return { logger, output: () => lines.join('') };
}

const TOKEN = 'verify-token-4f1c9a2e7b';
const LINK = `https://herald.example.com/verify-email?token=${TOKEN}`;

const verificationEmail = () =>
  emailJob({
    content: {
      subject: 'Verify your email address',
      text: `Hello Ada,\n\nconfirm your address: ${LINK}\n`,
      html: `<p>Hello Ada, <a href="${LINK}">confirm your address</a></p>`,
    },
  });

describe('the log provider (development, no provider credentials)', () => {
  it('logs who and what, never the body: a single-use link stays out of the log', async () => {
    const { logger, output } = capturedLogger();
    const providers = createProviders(config({ NODE_ENV: 'development' }), logger);
    const email = verificationEmail();
    const sms = smsJob({ content: { text: `Your link: ${LINK}`, sms: `Code link ${LINK}` } });

    await providers.email[0]!.send(email);
    await providers.sms[0]!.send(sms);

    const logged = output();
    expect(logged).not.toContain(TOKEN);
    const lines = logged
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => String(line.msg).startsWith('log provider'));
    expect(lines).toEqual([
      expect.objectContaining({
        msg: 'log provider: would send email',
        notificationId: email.notificationId,
        jobId: email.jobId,
        to: email.recipient.email,
        subject: 'Verify your email address',
        length: { text: email.content.text.length, html: email.content.html!.length },
      }),
      expect.objectContaining({
        msg: 'log provider: would send sms',
        notificationId: sms.notificationId,
        to: sms.recipient.phone,
        length: { text: sms.content.text.length, sms: sms.content.sms!.length },
      }),
    ]);
    expect(lines[0]).not.toHaveProperty('content');
  });

  it('logs the body too when a developer opts in with LOG_PROVIDER_CONTENT=true', async () => {
    const { logger, output } = capturedLogger();
    const providers = createProviders(
      config({ NODE_ENV: 'development', LOG_PROVIDER_CONTENT: 'true' }),
      logger,
    );
    await providers.email[0]!.send(verificationEmail());
    expect(output()).toContain(TOKEN);
  });

  it('refuses LOG_PROVIDER_CONTENT in production, even where every provider has credentials', () => {
    expect(() =>
      createProviders(
        config({
          NODE_ENV: 'production',
          LOG_PROVIDER_CONTENT: 'true',
          MAILGUN_API_KEY: 'k',
          MAILGUN_DOMAIN: 'mg.example.com',
          TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
          TWILIO_AUTH_TOKEN: 't',
          TWILIO_FROM: '+15005550001',
        }),
        capturedLogger().logger,
      ),
    ).toThrow(/LOG_PROVIDER_CONTENT is for development only/);
  });
});
