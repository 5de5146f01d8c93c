import { passwordReset } from './password-reset';
import { phoneVerification } from './phone-verification';
import { registrationAttempted } from './registration-attempted';
import { verifyEmail } from './verify-email';
import { welcome } from './welcome';

export type { SystemTemplate } from './types';

/** Shipped with Herald, seeded at start; each in English, French, German and Spanish. */
export const SYSTEM_TEMPLATES = [
  verifyEmail,
  passwordReset,
  welcome,
  registrationAttempted,
  phoneVerification,
];

export const SystemTemplateKeys = {
  verifyEmail: verifyEmail.key,
  passwordReset: passwordReset.key,
  registrationAttempted: registrationAttempted.key,
  phoneVerification: phoneVerification.key,
} as const;
