import { type SystemTemplate } from './types';

interface Words {
  subject: string;
  greeting: string;
  attempt: string;
  login: string;
  ignore: string;
}

const words: Record<string, Words> = {
  en: {
    subject: 'Someone tried to create an account with your address',
    greeting: 'Hello {{name}},',
    attempt: 'Someone just tried to register a new account with this email address, which already has one.',
    login:
      'If it was you, log in with your existing account, or reset your password if you have forgotten it.',
    ignore: 'If it was not you, you can ignore this email: nothing about your account has changed.',
  },
  fr: {
    subject: "Quelqu'un a tenté de créer un compte avec votre adresse",
    greeting: 'Bonjour {{name}},',
    attempt:
      "Quelqu'un vient d'essayer de créer un compte avec cette adresse e-mail, qui en possède déjà un.",
    login:
      "Si c'était vous, connectez-vous avec votre compte existant, ou réinitialisez votre mot de passe si vous l'avez oublié.",
    ignore: "Sinon, ignorez cet e-mail : rien n'a changé sur votre compte.",
  },
  de: {
    subject: 'Jemand wollte mit Ihrer Adresse ein Konto anlegen',
    greeting: 'Hallo {{name}},',
    attempt:
      'Gerade wollte jemand mit dieser E-Mail-Adresse ein neues Konto anlegen; für sie besteht bereits eines.',
    login:
      'Falls Sie das waren: Melden Sie sich mit Ihrem bestehenden Konto an oder setzen Sie Ihr Passwort zurück.',
    ignore: 'Falls nicht, ignorieren Sie diese E-Mail: An Ihrem Konto hat sich nichts geändert.',
  },
  es: {
    subject: 'Alguien intentó crear una cuenta con tu dirección',
    greeting: 'Hola {{name}}:',
    attempt: 'Alguien acaba de intentar registrar una cuenta con este correo, que ya tiene una.',
    login: 'Si fuiste tú, inicia sesión con tu cuenta o restablece tu contraseña si la olvidaste.',
    ignore: 'Si no fuiste tú, ignora este correo: tu cuenta no ha cambiado.',
  },
};

/**
 * Sent to the owner of an address when someone registers with it again:
 * registration answers the same whether or not an address is taken (no
 * enumeration), so this is how the owner learns of it.
 */
export const registrationAttempted: SystemTemplate = {
  key: 'registration-attempted',
  content: {
    description: 'Tells an account owner that someone tried to register with their address',
    channels: ['email'],
    defaultLocale: 'en',
    variables: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1 } },
      required: ['name'],
    },
    locales: Object.fromEntries(
      Object.entries(words).map(([locale, w]) => [
        locale,
        {
          subject: w.subject,
          text: [w.greeting, '', w.attempt, w.login, '', w.ignore].join('\n'),
          html: [
            `<p>${w.greeting}</p>`,
            `<p>${w.attempt}</p>`,
            `<p>${w.login}</p>`,
            `<p>${w.ignore}</p>`,
          ].join('\n'),
        },
      ]),
    ),
  },
};
