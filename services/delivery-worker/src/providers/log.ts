import { randomUUID } from 'node:crypto';
import { type Logger } from '@herald/runtime';
import { type Provider, type SendResult } from './provider';

export interface LoggedMessage {
  providerMessageId: string;
  notificationId: string;
  channel: string;
  to: string;
  content: unknown;
  at: Date;
}

/** Kept in memory for a developer's inspection; bounded so a long local run cannot grow without end. */
const MAX_KEPT = 1000;

/**
 * For local development only: "sends" by logging what would have gone out.
 * Chosen for a channel without credentials, never in production (see
 * `createProviders`).
 */
export class LogProvider<
  J extends { notificationId: string; channel: string; content: unknown },
> implements Provider<J> {
  readonly name = 'log';
  readonly sent: LoggedMessage[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly addressOf: (job: J) => string,
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
    this.logger.info({ message }, `log provider: would send ${job.channel}`);
    return { providerMessageId: message.providerMessageId };
  }
}
