import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { classifySendGridError } from '../deliveries/domain/classify';
import { emailSubject, headerText, jobHeaders, MAX_TAG_LENGTH, singleLine } from './header-values';
import { type EmailJob, type Provider, type SendResult, type SentLookup } from './provider';

export interface SendGridSettings {
  apiKey: string;
  /** https://api.sendgrid.com, https://api.eu.sendgrid.com, or a local fake */
  url: string;
  from: { email: string; name?: string };
  timeoutMs: number;
}

/** SendGrid allows ten categories per message; Herald sets at most two. */
const MAX_CATEGORIES = 10;

/**
 * Email through SendGrid's v3 Mail Send API with the official client
 * (`@sendgrid/mail` on its own `@sendgrid/client`, so the API key, base URL
 * and timeout are this provider's, not process-wide). The Herald ids travel
 * as `custom_args` (`herald_notification_id`, `herald_channel`,
 * `herald_job_id`): SendGrid echoes them in every event webhook, and the
 * Email Activity API finds a message by them (`findSent`).
 */
export class SendGridProvider implements Provider<EmailJob> {
  readonly name = 'sendgrid';
  private readonly client = new Client();
  private readonly mail = new MailService();

  constructor(private readonly settings: SendGridSettings) {
    this.client.setApiKey(settings.apiKey);
    // after setApiKey, which resets the base URL to the global region's
    this.client.setDefaultRequest('baseUrl', settings.url.replace(/\/+$/, ''));
    // axios's `timeout`: the client passes its default request to axios, though its type omits it
    const axiosDefaults: unknown = { timeout: settings.timeoutMs };
    this.client.setDefaultRequest(axiosDefaults as Parameters<Client['setDefaultRequest']>[0]);
    this.mail.setClient(this.client);
  }

  async send(job: EmailJob): Promise<SendResult> {
    const { content, recipient } = job;
    const categories = [job.category, job.template?.key]
      .map((category) => (category === undefined ? '' : headerText(category, MAX_TAG_LENGTH)))
      .filter((category) => category !== '')
      .slice(0, MAX_CATEGORIES);
    try {
      const [response] = await this.mail.send({
        from: this.settings.from,
        to: { email: recipient.email, ...(recipient.name ? { name: singleLine(recipient.name) } : {}) },
        subject: emailSubject(content.subject, content.text),
        text: content.text,
        ...(content.html ? { html: content.html } : {}),
        ...(categories.length ? { categories } : {}),
        ...(job.headers ? { headers: Object.fromEntries(jobHeaders(job.headers)) } : {}),
        customArgs: {
          herald_notification_id: job.notificationId,
          herald_channel: job.channel,
          herald_job_id: job.jobId,
        },
      });
      const id = (response.headers as Record<string, unknown>)['x-message-id'];
      if (typeof id !== 'string' || !id) throw new Error('SendGrid accepted the message without an id');
      return { providerMessageId: id };
    } catch (error) {
      throw classifySendGridError(error);
    }
  }

  /**
   * The Email Activity API (`GET /v3/messages`, a paid add-on at SendGrid) by the custom args of
   * the send: any message of this notification and channel means SendGrid took it. Its
   * `msg_id` starts with the X-Message-Id the send answered.
   */
  async findSent(job: EmailJob): Promise<SentLookup> {
    const query =
      `unique_args['herald_notification_id']="${job.notificationId}" AND ` +
      `unique_args['herald_channel']="${job.channel}"`;
    try {
      const [, body] = await this.client.request({
        method: 'GET',
        url: '/v3/messages',
        qs: { query, limit: 10 },
      });
      const messages = (body as { messages?: { msg_id?: string }[] }).messages ?? [];
      const found = messages.find((message) => message.msg_id);
      if (!found) return { kind: 'not_found' };
      return { kind: 'accepted', providerMessageId: found.msg_id!.split('.')[0]! };
    } catch (error) {
      throw classifySendGridError(error);
    }
  }
}
