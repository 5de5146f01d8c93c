import { passwordReset } from './password-reset';
import { verifyEmail } from './verify-email';
import { welcome } from './welcome';

export type { SystemTemplate } from './types';

/** Shipped with Herald, seeded at start; each in English, French, German and Spanish. */
export const SYSTEM_TEMPLATES = [verifyEmail, passwordReset, welcome];

export const SystemTemplateKeys = { verifyEmail: verifyEmail.key } as const;
