import { type SystemTemplate } from './types';

const words: Record<string, string> = {
  en: 'Your Herald verification code is {{code}}. It expires in 10 minutes. Never share it.',
  fr: 'Votre code de vérification Herald est {{code}}. Il expire dans 10 minutes. Ne le partagez jamais.',
  de: 'Ihr Herald-Bestätigungscode lautet {{code}}. Er läuft in 10 Minuten ab. Geben Sie ihn nie weiter.',
  es: 'Tu código de verificación de Herald es {{code}}. Caduca en 10 minutos. No lo compartas nunca.',
};

/** The one-time code auth asks for when a user adds a phone number (`POST /me/phone`). */
export const phoneVerification: SystemTemplate = {
  key: 'phone-verification',
  content: {
    description: 'One-time code that proves a phone number belongs to the user',
    channels: ['sms'],
    defaultLocale: 'en',
    variables: {
      type: 'object',
      properties: { code: { type: 'string', pattern: '^[0-9]{6}$' } },
      required: ['code'],
    },
    locales: Object.fromEntries(Object.entries(words).map(([locale, sms]) => [locale, { sms }])),
  },
};
