import { expires, linkEmailTemplate, type LinkEmailWords } from './link-email';

const words: Record<string, LinkEmailWords> = {
  en: {
    subject: 'Reset your password',
    greeting: 'Hello {{name}},',
    instruction: 'We received a request to reset your password. Choose a new one with this link:',
    button: 'Choose a new password',
    expiry: `The link expires on ${expires}.`,
    ignore: 'If you did not ask for this, ignore this email: your password stays as it is.',
  },
  fr: {
    subject: 'Réinitialisez votre mot de passe',
    greeting: 'Bonjour {{name}},',
    instruction:
      'Nous avons reçu une demande de réinitialisation de votre mot de passe. Choisissez-en un nouveau avec ce lien :',
    button: 'Choisir un nouveau mot de passe',
    expiry: `Le lien expire le ${expires}.`,
    ignore:
      "Si vous n'êtes pas à l'origine de cette demande, ignorez cet e-mail : votre mot de passe reste inchangé.",
  },
  de: {
    subject: 'Setzen Sie Ihr Passwort zurück',
    greeting: 'Hallo {{name}},',
    instruction:
      'Wir haben eine Anfrage zum Zurücksetzen Ihres Passworts erhalten. Wählen Sie über diesen Link ein neues:',
    button: 'Neues Passwort wählen',
    expiry: `Der Link läuft am ${expires} ab.`,
    ignore:
      'Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.',
  },
  es: {
    subject: 'Restablece tu contraseña',
    greeting: 'Hola {{name}}:',
    instruction:
      'Hemos recibido una solicitud para restablecer tu contraseña. Elige una nueva con este enlace:',
    button: 'Elegir una nueva contraseña',
    expiry: `El enlace caduca el ${expires}.`,
    ignore: 'Si no lo has solicitado, ignora este correo: tu contraseña no cambiará.',
  },
};

/** Auth's password reset (`user.password_reset_requested`): the single-use link to choose a new password. */
export const passwordReset = linkEmailTemplate('password-reset', 'Password reset link', words);
