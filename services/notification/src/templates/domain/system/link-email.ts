import { type SystemTemplate } from './types';

/** `{{expiresAt}}` as the recipient's language writes a date, in UTC (the email cannot know their zone). */
export const expires = '{{formatDate expiresAt dateStyle="long" timeStyle="short" timeZone="UTC"}} UTC';

/** The words of an "open this link before it expires" email, per language. */
export interface LinkEmailWords {
  subject: string;
  greeting: string;
  instruction: string;
  button: string;
  expiry: string;
  ignore: string;
}

/**
 * The account emails that carry a single-use link (verify-email,
 * password-reset) share one shape: greeting, instruction, the link as a
 * button, when it expires, what to do if it was not you. `{{name}}`,
 * `{{link}}` and the expiry are Handlebars, escaped in html.
 */
export function linkEmailTemplate(
  key: string,
  description: string,
  words: Record<string, LinkEmailWords>,
): SystemTemplate {
  return {
    key,
    content: {
      description,
      channels: ['email'],
      defaultLocale: 'en',
      variables: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1 },
          link: { type: 'string', format: 'uri', pattern: '^https?://' },
          expiresAt: { type: 'string', format: 'date-time' },
        },
        required: ['name', 'link', 'expiresAt'],
      },
      locales: Object.fromEntries(
        Object.entries(words).map(([locale, w]) => [
          locale,
          {
            subject: w.subject,
            text: [w.greeting, '', w.instruction, '{{link}}', '', w.expiry, w.ignore].join('\n'),
            html: [
              `<p>${w.greeting}</p>`,
              `<p>${w.instruction}</p>`,
              `{{> button url=link label="${w.button}"}}`,
              `<p>${w.expiry}</p>`,
              `<p>${w.ignore}</p>`,
            ].join('\n'),
          },
        ]),
      ),
    },
  };
}
