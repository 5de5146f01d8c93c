import { WebhookPaths } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { type Config } from '../config';
import { LogProvider } from './log-provider';
import { MailgunProvider } from './mailgun';
import { type EmailJob, type Providers, type SmsJob } from './provider';
import { TwilioProvider } from './twilio';

/**
 * The real provider for each channel that has credentials; the log provider
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
  const email =
    config.MAILGUN_API_KEY && config.MAILGUN_DOMAIN
      ? new MailgunProvider({
          apiKey: config.MAILGUN_API_KEY,
          domain: config.MAILGUN_DOMAIN,
          url: config.MAILGUN_URL,
          from: config.MAILGUN_FROM ?? `Herald <noreply@${config.MAILGUN_DOMAIN}>`,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
        })
      : logProvider<EmailJob>(
          config,
          logger,
          'email',
          'MAILGUN_API_KEY and MAILGUN_DOMAIN',
          (job) => job.recipient.email,
        );
  const sms =
    config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN
      ? new TwilioProvider({
          accountSid: config.TWILIO_ACCOUNT_SID,
          authToken: config.TWILIO_AUTH_TOKEN,
          from: config.TWILIO_FROM,
          messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID,
          apiUrl: config.TWILIO_API_URL,
          statusCallbackUrl: `${config.PUBLIC_BASE_URL.replace(/\/+$/, '')}${WebhookPaths.twilio}`,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
        })
      : logProvider<SmsJob>(
          config,
          logger,
          'sms',
          'TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN',
          (job) => job.recipient.phone,
        );
  return { email, sms };
}

function logProvider<J extends EmailJob | SmsJob>(
  config: Config,
  logger: Logger,
  channel: 'email' | 'sms',
  variables: string,
  addressOf: (job: J) => string,
): LogProvider<J> {
  if (config.NODE_ENV === 'production') {
    throw new Error(
      `${variables} are not set: ${channel} cannot be sent, and the log provider is refused in production`,
    );
  }
  logger.warn(
    `!!! ${channel.toUpperCase()} IS NOT SENT: ${variables} are not set, so ${channel} goes to the LOG PROVIDER. ` +
      'Every message is only logged. Set the credentials to send for real. !!!',
  );
  return new LogProvider<J>(logger.child({ provider: 'log', channel }), addressOf, {
    logContent: config.LOG_PROVIDER_CONTENT,
  });
}
