// Sign up, verify the email (the link in the email opens /verify-email?token=),
// log in, and reset a forgotten password (/reset-password?token=).
import { post, get } from '../api';
import { field, h, notice } from '../dom';
import { session, type Me, type Tokens } from '../session';

const input = (type: string, name: string, autocomplete: string, extra: Partial<HTMLInputElement> = {}) =>
  h('input', { type, name, required: true, autocomplete, ...extra });

function formPage(
  title: string,
  fields: HTMLElement[],
  submit: string,
  action: (form: HTMLFormElement, say: ReturnType<typeof notice>['say']) => Promise<void>,
  footer: HTMLElement[] = [],
): HTMLElement {
  const result = notice();
  const button = h('button', { type: 'submit', className: 'primary', textContent: submit });
  const form = h('form', { attrs: { 'aria-label': title } }, ...fields, button);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    button.disabled = true;
    action(form, result.say)
      .catch((error: Error) => result.say(error.message, 'error'))
      .finally(() => (button.disabled = false));
  });
  return h('section', { className: 'card narrow' }, h('h1', { textContent: title }), form, result, ...footer);
}

const value = (form: HTMLFormElement, name: string) =>
  (form.elements.namedItem(name) as HTMLInputElement).value;

export async function loadMe(): Promise<Me | null> {
  if (!session.tokens) return null;
  session.me = await get<Me>('/api/v1/auth/me').catch(() => null);
  return session.me;
}

export function loginPage(navigate: (to: string) => void): HTMLElement {
  return formPage(
    'Log in',
    [
      field('Email', input('email', 'email', 'username')),
      field('Password', input('password', 'password', 'current-password')),
    ],
    'Log in',
    async (form) => {
      session.set(
        await post<Tokens>('/api/v1/auth/login', {
          email: value(form, 'email'),
          password: value(form, 'password'),
        }),
      );
      await loadMe();
      navigate('#/inbox');
    },
    [
      h(
        'p',
        {},
        h('a', { href: '#/signup', textContent: 'Create an account' }),
        ' · ',
        h('a', { href: '#/forgot', textContent: 'Forgot your password?' }),
      ),
    ],
  );
}

export function signupPage(): HTMLElement {
  return formPage(
    'Create an account',
    [
      field('Name', input('text', 'name', 'name')),
      field('Email', input('email', 'email', 'email')),
      field(
        'Password (8 characters or more)',
        input('password', 'password', 'new-password', { minLength: 8 }),
      ),
    ],
    'Sign up',
    async (form, say) => {
      await post('/api/v1/auth/register', {
        name: value(form, 'name'),
        email: value(form, 'email'),
        password: value(form, 'password'),
      });
      form.reset();
      say('Check your email: we sent you a link to verify your address.');
    },
    [h('p', {}, h('a', { href: '#/login', textContent: 'I already have an account' }))],
  );
}

export function verifyEmailPage(token: string | null): HTMLElement {
  const result = notice();
  const section = h(
    'section',
    { className: 'card narrow' },
    h('h1', { textContent: 'Verify your email' }),
    result,
  );
  if (!token) result.say('This link carries no token; open the link from the email again.', 'error');
  else
    post('/api/v1/auth/verify-email', { token }).then(
      () => {
        result.say('Your email address is verified. You can log in now.');
        section.append(h('p', {}, h('a', { href: '/#/login', textContent: 'Log in' })));
      },
      (error: Error) => result.say(`This link did not work: ${error.message}`, 'error'),
    );
  return section;
}

export function forgotPasswordPage(): HTMLElement {
  return formPage(
    'Reset your password',
    [field('Email', input('email', 'email', 'email'))],
    'Send me a link',
    async (form, say) => {
      await post('/api/v1/auth/password-reset', { email: value(form, 'email') });
      say('If an account has this address, a link to reset its password is on its way.');
    },
  );
}

export function resetPasswordPage(token: string | null): HTMLElement {
  return formPage(
    'Choose a new password',
    [
      field(
        'New password (8 characters or more)',
        input('password', 'newPassword', 'new-password', { minLength: 8 }),
      ),
    ],
    'Set password',
    async (form, say) => {
      if (!token) throw new Error('This link carries no token; open the link from the email again.');
      await post('/api/v1/auth/password-reset/confirm', { token, newPassword: value(form, 'newPassword') });
      say('Your password is changed. You can log in with it now.');
    },
    [h('p', {}, h('a', { href: '/#/login', textContent: 'Log in' }))],
  );
}
