import { WebhookPaths } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { providerChainsFrom, type Config } from '../config';
import { LogProvider } from './log-provider';
import { MailgunProvider } from './mailgun';
import { type EmailJob, type Provider, type Providers, type PushJob, type SmsJob } from './provider';
import { PushNotConfigured, WebPushProvider } from './push';
import { SendGridProvider } from './sendgrid';
import { SmtpProvider } from './smtp';
import { TwilioProvider } from './twilio';

/**
 * Each channel's chain (EMAIL_PROVIDERS, SMS_PROVIDERS; see `providerChainsFrom`). Unset: the real
 * provider for each channel that has credentials; the log provider
 * for one that has none, announced loudly, and refused in production, where
 * a missing credential must stop the worker rather than swallow messages.
 * The log provider logs message content only with LOG_PROVIDER_CONTENT=true,
 * itself refused in production.
 */
export function createProviders(config: Config, logger: Logger): Providers {
  if (config.NODE_ENV === 'production' && config.LOG_PROVIDER_CONTENT) {
    throw new Error(
      'LOG_PROVIDER_CONTENT is for development only: message bodies must not reach production logs',
    );
  }
  checkVapidKeys(config);
  const chains = providerChainsFrom(config);
  const email = chains.email.map((name): Provider<EmailJob> => {
    switch (name) {
      case 'mailgun':
        return new MailgunProvider({
          apiKey: config.MAILGUN_API_KEY!,
          domain: config.MAILGUN_DOMAIN!,
          url: config.MAILGUN_URL,
          from: config.MAILGUN_FROM ?? `Herald <noreply@${config.MAILGUN_DOMAIN}>`,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
        });
      case 'smtp':
        return new SmtpProvider({
          host: config.SMTP_HOST!,
          port: config.SMTP_PORT,
          secure: config.SMTP_SECURE,
          user: config.SMTP_USER,
          pass: config.SMTP_PASS,
          from: config.SMTP_FROM!,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
        });
      case 'sendgrid':
        return new SendGridProvider({
          apiKey: config.SENDGRID_API_KEY!,
          url: config.SENDGRID_URL,
          from: {
            email: config.SENDGRID_FROM!,
            ...(config.SENDGRID_FROM_NAME ? { name: config.SENDGRID_FROM_NAME } : {}),
          },
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
        });
      case 'log':
        return logProvider<EmailJob>(
          config,
          logger,
          'email',
          config.EMAIL_PROVIDERS === undefined
            ? 'MAILGUN_API_KEY and MAILGUN_DOMAIN are not set'
            : 'EMAIL_PROVIDERS names log',
          (job) => job.recipient.email,
        );
    }
  });
  const sms = chains.sms.map((name): Provider<SmsJob> => {
    switch (name) {
      case 'twilio':
        return new TwilioProvider({
          accountSid: config.TWILIO_ACCOUNT_SID!,
          authToken: config.TWILIO_AUTH_TOKEN!,
          from: config.TWILIO_FROM,
          messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID,
          apiUrl: config.TWILIO_API_URL,
          statusCallbackUrl: `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}${WebhookPaths.twilio}`,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
        });
      case 'log':
        return logProvider<SmsJob>(
          config,
          logger,
          'sms',
          config.SMS_PROVIDERS === undefined
            ? 'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set'
            : 'SMS_PROVIDERS names log',
          (job) => job.recipient.phone,
        );
    }
  });
  const push = chains.push.map((name): Provider<PushJob> => {
    switch (name) {
      case 'webpush':
        return new WebPushProvider({
          vapid: {
            subject: config.VAPID_SUBJECT!,
            publicKey: config.VAPID_PUBLIC_KEY!,
            privateKey: config.VAPID_PRIVATE_KEY!,
          },
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
          ttlSeconds: config.PUSH_TTL_SECONDS,
          targets: {
            allowPrivate: config.PUSH_ALLOW_PRIVATE,
            allowedHosts: config.PUSH_ALLOWED_HOSTS.split(',')
              .map((host) =>
                host
                  .trim()
                  .toLowerCase()
                  .replace(/^\[(.*)\]$/, '$1'),
              )
              .filter(Boolean),
          },
          logger: logger.child({ provider: 'webpush', channel: 'push' }),
        });
      case 'log':
        if (config.PUSH_PROVIDERS === undefined && config.NODE_ENV === 'production') {
          // Push is optional: a deployment without VAPID keys still starts; the notification
          // service refuses the push channel without them, so no job should come.
          logger.warn('VAPID keys are not set: push jobs fail (push_not_configured)');
          return new PushNotConfigured();
        }
        return logProvider<PushJob>(
          config,
          logger,
          'push',
          config.PUSH_PROVIDERS === undefined
            ? 'VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT are not set'
            : 'PUSH_PROVIDERS names log',
          (job) => job.recipient.userId,
        );
    }
  });
  return { email, sms, push };
}

/** Half a VAPID configuration is a mistake, not a choice: it names what is missing. */
function checkVapidKeys(config: Config): void {
  const vapid = ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY', 'VAPID_SUBJECT'] as const;
  const missing = vapid.filter((name) => config[name] === undefined);
  if (missing.length > 0 && missing.length < vapid.length) {
    throw new Error(`${missing.join(' and ')} must be set with the other VAPID variables`);
  }
}

function logProvider<J extends EmailJob | SmsJob | PushJob>(
  config: Config,
  logger: Logger,
  channel: 'email' | 'sms' | 'push',
  reason: string,
  addressOf: (job: J) => string,
): LogProvider<J> {
  if (config.NODE_ENV === 'production') {
    throw new Error(`${reason}: ${channel} cannot be sent, and the log provider is refused in production`);
  }
  logger.warn(
    `!!! ${channel.toUpperCase()} IS NOT SENT: ${reason}, so ${channel} goes to the LOG PROVIDER. ` +
      'Every message is only logged. Set the credentials to send for real. !!!',
  );
  return new LogProvider<J>(logger.child({ provider: 'log', channel }), addressOf, {
    logContent: config.LOG_PROVIDER_CONTENT,
  });
}
