import { CONTROL_PREFIX } from './fake-server';
import { FakeMailgun } from './mailgun';
import { FakeSendGrid } from './sendgrid';
import { FakeSmtp } from './smtp';
import { FakeTwilio } from './twilio';

/** A long local run or a benchmark must not grow without end; `stats` counts everything anyway. */
const KEEP_RECENT = 10_000;

/**
 * Runs both fakes for local development and benchmarks (`node dist/cli.js`).
 * Ports and credentials come from the same variables the delivery worker
 * reads, so one .env aims the worker at them.
 */
async function main(): Promise<void> {
  const env = process.env;
  const host = env.FAKE_PROVIDERS_HOST ?? '127.0.0.1';
  const mailgun = new FakeMailgun({
    apiKey: env.MAILGUN_API_KEY || undefined,
    webhookSigningKey: env.MAILGUN_WEBHOOK_SIGNING_KEY || undefined,
    maxRecorded: KEEP_RECENT,
  });
  const twilio = new FakeTwilio({
    accountSid: env.TWILIO_ACCOUNT_SID || undefined,
    authToken: env.TWILIO_AUTH_TOKEN || undefined,
    maxRecorded: KEEP_RECENT,
  });
  const sendgrid = new FakeSendGrid({
    apiKey: env.SENDGRID_API_KEY || undefined,
    webhookPrivateKey: env.FAKE_SENDGRID_WEBHOOK_PRIVATE_KEY || undefined,
    maxRecorded: KEEP_RECENT,
  });
  const smtp = new FakeSmtp({ user: env.SMTP_USER || undefined, pass: env.SMTP_PASS || undefined });
  const mailgunUrl = await mailgun.listen(Number(env.FAKE_MAILGUN_PORT ?? 3091), host);
  const twilioUrl = await twilio.listen(Number(env.FAKE_TWILIO_PORT ?? 3092), host);
  const sendgridUrl = await sendgrid.listen(Number(env.FAKE_SENDGRID_PORT ?? 3093), host);
  const smtpPort = await smtp.listen(Number(env.FAKE_SMTP_PORT ?? 2525), host);
  process.stdout.write(
    `fake Mailgun at ${mailgunUrl} (MAILGUN_URL), fake Twilio at ${twilioUrl} (TWILIO_API_URL), ` +
      `fake SendGrid at ${sendgridUrl} (SENDGRID_URL; its webhooks verify with ` +
      `SENDGRID_WEBHOOK_PUBLIC_KEY=${sendgrid.webhookPublicKey}), fake SMTP at ${host}:${smtpPort} ` +
      `(SMTP_HOST, SMTP_PORT; user ${smtp.user}); ` +
      `control API under ${CONTROL_PREFIX} on each HTTP fake (GET stats, GET requests, POST fail-next, fail-for, reset, webhook)\n`,
  );
  const stop = () => {
    void Promise.all([mailgun.close(), twilio.close(), sendgrid.close(), smtp.close()]).then(() =>
      process.exit(0),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
