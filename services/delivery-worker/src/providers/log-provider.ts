import { randomUUID } from 'node:crypto';
import { type RenderedContent } from '@herald/contracts';
import { type Logger } from '@herald/runtime';
import { type Provider, type SendResult } from './provider';

export interface LoggedMessage {
  providerMessageId: string;
  notificationId: string;
  channel: string;
  to: string;
  content: RenderedContent;
  at: Date;
}

export interface LogProviderOptions {
  /**
   * Also log the message's text, HTML and SMS body. Off by default: they hold
   * single-use links (email verification, password reset) that must not end
   * up in log files. Development only (`LOG_PROVIDER_CONTENT`, refused in production).
   */
  logContent?: boolean;
}

/** Kept in memory for a developer's inspection; bounded so a long local run cannot grow without end. */
const MAX_KEPT = 1000;

/**
 * For local development only: "sends" by logging that a message would have
 * gone out. Chosen for a channel without credentials, never in production
 * (see `createProviders`). The log line names the message (ids, recipient,
 * subject, sizes) but not its content, unless `logContent` is set.
 */
export class LogProvider<
  J extends { notificationId: string; jobId: string; channel: string; content: RenderedContent },
> implements Provider<J> {
  readonly name = 'log';
  readonly sent: LoggedMessage[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly addressOf: (job: J) => string,
    private readonly options: LogProviderOptions = {},
  ) {}

  async send(job: J): Promise<SendResult> {
    const message: LoggedMessage = {
      providerMessageId: `log-${randomUUID()}`,
      notificationId: job.notificationId,
      channel: job.channel,
      to: this.addressOf(job),
      content: job.content,
      at: new Date(),
    };
    this.sent.push(message);
    if (this.sent.length > MAX_KEPT) this.sent.shift();
    const { content } = job;
    this.logger.info(
      {
        providerMessageId: message.providerMessageId,
        notificationId: job.notificationId,
        jobId: job.jobId,
        to: message.to,
        ...(content.subject ? { subject: content.subject } : {}),
        length: {
          text: content.text.length,
          ...(content.html ? { html: content.html.length } : {}),
          ...(content.sms ? { sms: content.sms.length } : {}),
        },
        ...(this.options.logContent ? { content } : {}),
      },
      `log provider: would send ${job.channel}`,
    );
    return { providerMessageId: message.providerMessageId };
  }
}
