import { type VerificationRequestedMessage } from '@herald/contracts';
import { type UserRecord } from '../data/user-model';
import { type ServiceContext } from './context';
import { storeNotification } from './create-notification';

/*
 * Built-in texts until templates land (issue 10). `{name}`, `{link}` and
 * `{expires}` are filled in; the HTML version escapes them.
 */
interface VerificationTexts {
  subject: string;
  greeting: string;
  instruction: string;
  button: string;
  expiry: string;
  ignore: string;
}

const texts: Record<string, VerificationTexts> = {
  en: {
    subject: 'Confirm your email address',
    greeting: 'Hello {name},',
    instruction: 'Please confirm your email address by opening this link:',
    button: 'Confirm my email address',
    expiry: 'The link expires on {expires}.',
    ignore: 'If you did not create an account, you can ignore this email.',
  },
  fr: {
    subject: 'Confirmez votre adresse e-mail',
    greeting: 'Bonjour {name},',
    instruction: 'Veuillez confirmer votre adresse e-mail en ouvrant ce lien :',
    button: 'Confirmer mon adresse e-mail',
    expiry: 'Le lien expire le {expires}.',
    ignore: "Si vous n'avez pas créé de compte, ignorez cet e-mail.",
  },
  de: {
    subject: 'Bestätigen Sie Ihre E-Mail-Adresse',
    greeting: 'Hallo {name},',
    instruction: 'Bitte bestätigen Sie Ihre E-Mail-Adresse über diesen Link:',
    button: 'E-Mail-Adresse bestätigen',
    expiry: 'Der Link läuft am {expires} ab.',
    ignore: 'Wenn Sie kein Konto erstellt haben, können Sie diese E-Mail ignorieren.',
  },
  es: {
    subject: 'Confirma tu dirección de correo',
    greeting: 'Hola {name}:',
    instruction: 'Confirma tu dirección de correo abriendo este enlace:',
    button: 'Confirmar mi correo',
    expiry: 'El enlace caduca el {expires}.',
    ignore: 'Si no has creado una cuenta, ignora este correo.',
  },
};

/** `pt-BR` → `pt-BR`, then `pt`, then English. */
export function verificationTexts(locale: string | undefined): { locale: string; texts: VerificationTexts } {
  const candidates = locale ? [locale, locale.split('-')[0]!.toLowerCase()] : [];
  for (const candidate of candidates) {
    const found = texts[candidate];
    if (found) return { locale: candidate, texts: found };
  }
  return { locale: 'en', texts: texts.en! };
}

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const fill = (text: string, values: Record<string, string>) =>
  text.replace(/\{(\w+)\}/g, (match, key: string) => values[key] ?? match);

export function renderVerificationEmail(
  locale: string | undefined,
  values: { name: string; link: string; expiresAt: Date },
) {
  const chosen = verificationTexts(locale);
  const t = chosen.texts;
  const expires = new Intl.DateTimeFormat(chosen.locale, {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(values.expiresAt);
  const plain = { name: values.name, expires: `${expires} UTC` };
  const html = Object.fromEntries(Object.entries(plain).map(([key, value]) => [key, escapeHtml(value)]));
  const link = escapeHtml(values.link);
  return {
    locale: chosen.locale,
    subject: t.subject,
    text: [fill(t.greeting, plain), '', t.instruction, values.link, '', fill(t.expiry, plain), t.ignore].join(
      '\n',
    ),
    html: [
      `<p>${fill(t.greeting, html)}</p>`,
      `<p>${t.instruction}</p>`,
      `<p><a href="${link}">${t.button}</a></p>`,
      `<p>${fill(t.expiry, html)}</p>`,
      `<p>${t.ignore}</p>`,
    ].join('\n'),
  };
}

/**
 * Sends auth's verification email as an email notification. Deduplicated
 * on the event's message id, so a redelivered event sends nothing twice.
 * Kept out of the inbox (no inbox owner): it is an account email, and its
 * link carries a single-use token.
 */
export async function sendVerificationEmail(
  ctx: ServiceContext,
  message: VerificationRequestedMessage,
): Promise<void> {
  const request = message.payload;
  const user = request.locale
    ? null
    : await ctx.models.users.findById(request.userId, { locale: 1 }).lean<Pick<UserRecord, 'locale'>>();
  const email = renderVerificationEmail(request.locale ?? user?.locale, {
    name: request.name,
    link: request.verificationUrl,
    expiresAt: new Date(request.expiresAt),
  });
  const record = await storeNotification(ctx, {
    dedupeKey: `verification:${message.messageId}`,
    inbox: false,
    recipient: { userId: request.userId, email: request.email, name: request.name, locale: email.locale },
    senderId: 'system',
    channels: ['email'],
    title: email.subject,
    body: email.text,
    html: email.html,
    locale: email.locale,
    category: 'account.verification',
    priority: 'high',
    correlationId: message.correlationId,
  });
  ctx.log.info(
    { notificationId: record._id, userId: request.userId, correlationId: message.correlationId },
    'verification email queued',
  );
}
