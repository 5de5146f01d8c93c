import nodemailer, { type Transporter } from 'nodemailer';
import { classifySmtpError } from '../deliveries/domain/classify';
import { emailSubject, jobHeaders, mailbox, singleLine } from './header-values';
import { type EmailJob, type Provider, type SendResult } from './provider';

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); false: STARTTLS when the server offers it */
  secure: boolean;
  user?: string;
  pass?: string;
  from: string;
  timeoutMs: number;
  /** connections kept open to the server */
  maxConnections?: number;
}

/**
 * Email through any SMTP server, with nodemailer (pooled connections).
 * The Herald ids travel as headers (`X-Herald-Notification-Id`,
 * `X-Herald-Channel`, `X-Herald-Job-Id`) for whoever reads the mail logs.
 *
 * SMTP keeps nothing we could ask afterwards: there is no `findSent`. A send
 * whose outcome is unknown (the worker died after DATA, or the connection
 * dropped before the server's reply) is sent again, so it may arrive twice.
 */
export class SmtpProvider implements Provider<EmailJob> {
  readonly name = 'smtp';
  private readonly transport: Transporter;

  constructor(private readonly settings: SmtpSettings) {
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: settings.maxConnections ?? 5,
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      ...(settings.user ? { auth: { user: settings.user, pass: settings.pass ?? '' } } : {}),
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
    });
  }

  async send(job: EmailJob): Promise<SendResult> {
    const { content, recipient } = job;
    try {
      const info = (await this.transport.sendMail({
        from: this.settings.from,
        to: mailbox(recipient.email, recipient.name),
        subject: emailSubject(content.subject, content.text),
        text: content.text,
        ...(content.html ? { html: content.html } : {}),
        headers: {
          ...Object.fromEntries(jobHeaders(job.headers)),
          'X-Herald-Notification-Id': singleLine(job.notificationId),
          'X-Herald-Channel': job.channel,
          'X-Herald-Job-Id': singleLine(job.jobId),
        },
      })) as { messageId: string };
      return { providerMessageId: info.messageId };
    } catch (error) {
      throw classifySmtpError(error);
    }
  }

  close(): void {
    this.transport.close();
  }
}
