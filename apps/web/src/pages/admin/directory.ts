// Admin: users (role, disable), API keys (create once-shown, revoke) and an
// application's subscribers (upsert, inbox token) — all served by auth.
import { get, patch, post, put, type Page } from '../../api';
import { field, h, notice, table, when } from '../../dom';

interface User {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  emailVerified: boolean;
  disabled: boolean;
  createdAt: string;
}
interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt?: string | null;
}
interface Subscriber {
  externalId: string;
  subscriberId: string;
  email?: string;
  phone?: string;
  name?: string;
  locale?: string;
}

const SCOPES = [
  'notifications:send',
  'notifications:read',
  'subscribers:write',
  'templates:read',
  'templates:write',
  'admin',
];

export function usersPage(): HTMLElement {
  const result = notice();
  const holder = h('div');
  const draw = async () => {
    const page = await get<Page<User>>('/api/v1/users?limit=100');
    holder.replaceChildren(
      table<User>(
        'Users',
        [
          { label: 'Email', cell: (user) => user.email },
          { label: 'Name', cell: (user) => user.name },
          { label: 'Verified', cell: (user) => (user.emailVerified ? 'yes' : 'no') },
          {
            label: 'Role',
            cell: (user) => {
              const select = h(
                'select',
                { attrs: { 'aria-label': `Role of ${user.email}` } },
                h('option', { value: 'user', textContent: 'user' }),
                h('option', { value: 'admin', textContent: 'admin' }),
              );
              select.value = user.role;
              select.addEventListener('change', () => change(user, { role: select.value }));
              return select;
            },
          },
          {
            label: 'Account',
            cell: (user) =>
              h('button', {
                type: 'button',
                textContent: user.disabled ? 'Enable' : 'Disable',
                attrs: { 'aria-label': `${user.disabled ? 'Enable' : 'Disable'} ${user.email}` },
                on: { click: () => change(user, { disabled: !user.disabled }) },
              }),
          },
          { label: 'Created', cell: (user) => when(user.createdAt) },
        ],
        page.items,
      ),
    );
  };
  const change = (user: User, body: Record<string, unknown>) =>
    patch(`/api/v1/users/${user.id}`, body).then(
      () => (result.say(`${user.email} updated`), draw()),
      (error: Error) => result.say(error.message, 'error'),
    );
  draw().catch((error: Error) => result.say(error.message, 'error'));
  return h('section', {}, h('h2', { textContent: 'Users' }), result, holder);
}

export function apiKeysPage(): HTMLElement {
  const result = notice();
  const holder = h('div');
  const secret = h('output', { className: 'secret', attrs: { 'aria-live': 'polite' } });
  const draw = async () => {
    const page = await get<Page<ApiKey>>('/api/v1/api-keys?limit=100');
    holder.replaceChildren(
      table<ApiKey>(
        'API keys',
        [
          { label: 'Name', cell: (key) => key.name },
          { label: 'Key', cell: (key) => h('code', { textContent: `${key.prefix}…` }) },
          { label: 'Scopes', cell: (key) => key.scopes.join(', ') },
          { label: 'Last used', cell: (key) => when(key.lastUsedAt) },
          {
            label: 'Revoke',
            cell: (key) =>
              key.revokedAt
                ? 'revoked'
                : h('button', {
                    type: 'button',
                    textContent: 'Revoke',
                    attrs: { 'aria-label': `Revoke ${key.name}` },
                    on: {
                      click: () =>
                        post(`/api/v1/api-keys/${key.id}/revoke`).then(
                          () => (result.say(`${key.name} revoked`), draw()),
                          (error: Error) => result.say(error.message, 'error'),
                        ),
                    },
                  }),
          },
        ],
        page.items,
      ),
    );
  };
  const name = h('input', { name: 'name', required: true });
  const scopes = SCOPES.map((scope) =>
    h(
      'label',
      {},
      h('input', { type: 'checkbox', value: scope, checked: scope === 'notifications:send' }),
      ` ${scope}`,
    ),
  );
  const form = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Create an API key' } },
    field('Key name', name),
    h('fieldset', {}, h('legend', { textContent: 'Scopes' }), ...scopes),
    h('button', { type: 'submit', className: 'primary', textContent: 'Create key' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = scopes
      .map((label) => label.querySelector('input')!)
      .filter((box) => box.checked)
      .map((box) => box.value);
    post<{ key: string }>('/api/v1/api-keys', { name: name.value, scopes: chosen }).then(
      (created) => {
        secret.textContent = `Copy this key now, it is shown once: ${created.key}`;
        form.reset();
        return draw();
      },
      (error: Error) => result.say(error.message, 'error'),
    );
  });
  draw().catch((error: Error) => result.say(error.message, 'error'));
  return h('section', {}, h('h2', { textContent: 'API keys' }), form, secret, result, holder);
}

export function subscribersPage(): HTMLElement {
  const result = notice();
  const holder = h('div');
  const token = h('output', { className: 'secret' });
  const draw = async () => {
    const page = await get<Page<Subscriber>>('/api/v1/subscribers?limit=100');
    holder.replaceChildren(
      table<Subscriber>(
        'Subscribers',
        [
          { label: 'External id', cell: (sub) => h('code', { textContent: sub.externalId }) },
          { label: 'Name', cell: (sub) => sub.name ?? '' },
          { label: 'Email', cell: (sub) => sub.email ?? '' },
          { label: 'Phone', cell: (sub) => sub.phone ?? '' },
          {
            label: 'Inbox token',
            cell: (sub) =>
              h('button', {
                type: 'button',
                textContent: 'Mint token',
                attrs: { 'aria-label': `Mint token: an inbox token for ${sub.externalId}` },
                on: {
                  click: () =>
                    post<{ token: string }>(
                      `/api/v1/subscribers/${encodeURIComponent(sub.externalId)}/inbox-token`,
                    ).then(
                      (minted) =>
                        (token.textContent = `Inbox token for ${sub.externalId} (15 minutes): ${minted.token}`),
                      (error: Error) => result.say(error.message, 'error'),
                    ),
                },
              }),
          },
        ],
        page.items,
      ),
    );
  };
  const externalId = h('input', { name: 'externalId', required: true });
  const email = h('input', { name: 'email', type: 'email' });
  const subscriberName = h('input', { name: 'name' });
  const form = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Add or update a subscriber' } },
    field('External id', externalId),
    field('Email', email),
    field('Name', subscriberName),
    h('button', { type: 'submit', className: 'primary', textContent: 'Save subscriber' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = Object.fromEntries(
      Object.entries({ email: email.value, name: subscriberName.value }).filter(([, v]) => v),
    );
    put(`/api/v1/subscribers/${encodeURIComponent(externalId.value)}`, body).then(
      () => (result.say('Subscriber saved'), form.reset(), draw()),
      (error: Error) => result.say(error.message, 'error'),
    );
  });
  draw().catch((error: Error) => result.say(error.message, 'error'));
  return h('section', {}, h('h2', { textContent: 'Subscribers' }), form, token, result, holder);
}
