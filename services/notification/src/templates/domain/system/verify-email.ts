import { expires, linkEmailTemplate, type LinkEmailWords } from './link-email';

/** The words per language; `{{name}}`, `{{link}}` and the expiry are Handlebars, escaped in html. */
const words: Record<string, LinkEmailWords> = {
  en: {
    subject: 'Confirm your email address',
    greeting: 'Hello {{name}},',
    instruction: 'Please confirm your email address by opening this link:',
    button: 'Confirm my email address',
    expiry: `The link expires on ${expires}.`,
    ignore: 'If you did not create an account, you can ignore this email.',
  },
  fr: {
    subject: 'Confirmez votre adresse e-mail',
    greeting: 'Bonjour {{name}},',
    instruction: 'Veuillez confirmer votre adresse e-mail en ouvrant ce lien :',
    button: 'Confirmer mon adresse e-mail',
    expiry: `Le lien expire le ${expires}.`,
    ignore: "Si vous n'avez pas créé de compte, ignorez cet e-mail.",
  },
  de: {
    subject: 'Bestätigen Sie Ihre E-Mail-Adresse',
    greeting: 'Hallo {{name}},',
    instruction: 'Bitte bestätigen Sie Ihre E-Mail-Adresse über diesen Link:',
    button: 'E-Mail-Adresse bestätigen',
    expiry: `Der Link läuft am ${expires} ab.`,
    ignore: 'Wenn Sie kein Konto erstellt haben, können Sie diese E-Mail ignorieren.',
  },
  es: {
    subject: 'Confirma tu dirección de correo',
    greeting: 'Hola {{name}}:',
    instruction: 'Confirma tu dirección de correo abriendo este enlace:',
    button: 'Confirmar mi correo',
    expiry: `El enlace caduca el ${expires}.`,
    ignore: 'Si no has creado una cuenta, ignora este correo.',
  },
};

/** Sent by the notification service for auth's `user.verification_requested`. */
export const verifyEmail = linkEmailTemplate(
  'verify-email',
  'Email address confirmation, sent when an account is registered or asks again',
  words,
);
