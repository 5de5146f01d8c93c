import { type SystemTemplate } from './types';

interface Words {
  subject: string;
  greeting: string;
  ready: string;
  button: string;
  title: string;
  body: string;
}

const words: Record<string, Words> = {
  en: {
    subject: 'Welcome to Herald, {{name}}!',
    greeting: 'Hello {{name}},',
    ready: 'Your account is ready. We are glad to have you with us.',
    button: 'Open Herald',
    title: 'Welcome, {{name}}!',
    body: 'Your account is ready.',
  },
  fr: {
    subject: 'Bienvenue sur Herald, {{name}} !',
    greeting: 'Bonjour {{name}},',
    ready: 'Votre compte est prêt. Nous sommes ravis de vous compter parmi nous.',
    button: 'Ouvrir Herald',
    title: 'Bienvenue, {{name}} !',
    body: 'Votre compte est prêt.',
  },
  de: {
    subject: 'Willkommen bei Herald, {{name}}!',
    greeting: 'Hallo {{name}},',
    ready: 'Ihr Konto ist eingerichtet. Schön, dass Sie dabei sind.',
    button: 'Herald öffnen',
    title: 'Willkommen, {{name}}!',
    body: 'Ihr Konto ist eingerichtet.',
  },
  es: {
    subject: '¡Te damos la bienvenida a Herald, {{name}}!',
    greeting: 'Hola {{name}}:',
    ready: 'Tu cuenta está lista. Nos alegra tenerte con nosotros.',
    button: 'Abrir Herald',
    title: '¡Hola, {{name}}!',
    body: 'Tu cuenta está lista.',
  },
};

/** A welcome by email and in the inbox; no text part: it is generated from the html. */
export const welcome: SystemTemplate = {
  key: 'welcome',
  content: {
    description: 'Welcome message for a new account',
    channels: ['email', 'in_app'],
    defaultLocale: 'en',
    variables: {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 1 },
        link: { type: 'string', format: 'uri', pattern: '^https?://' },
      },
      required: ['name'],
    },
    locales: Object.fromEntries(
      Object.entries(words).map(([locale, w]) => [
        locale,
        {
          subject: w.subject,
          html: [
            `<p>${w.greeting}</p>`,
            `<p>${w.ready}</p>`,
            `{{#if link}}{{> button url=link label="${w.button}"}}{{/if}}`,
          ].join('\n'),
          inApp: { title: w.title, body: w.body },
        },
      ]),
    ),
  },
};
