// The web app: a hash router over plain DOM pages. Two routes are real paths,
// because emails link to them: /verify-email?token= and /reset-password?token=.
import './styles.css';
import { h } from './dom';
import { closeLiveSocket } from './live';
import { post } from './api';
import { session } from './session';
import {
  forgotPasswordPage,
  loadMe,
  loginPage,
  resetPasswordPage,
  signupPage,
  verifyEmailPage,
} from './pages/auth';
import { inboxPage } from './pages/inbox';
import { timelinePage } from './pages/timeline';
import { apiKeysPage, subscribersPage, usersPage } from './pages/admin/directory';
import { categoriesPage, chartsPage, deadLettersPage, suppressionsPage } from './pages/admin/operations';
import { templatesPage } from './pages/admin/templates';
import { topicsPage } from './pages/admin/topics';
import { webhooksPage } from './pages/admin/webhooks';
import { workflowsPage } from './pages/admin/workflows';

type Disposable = HTMLElement & { dispose?: () => void };

/**
 * The admin console's sections: a new one is an entry here and a file under pages/admin/.
 */
const ADMIN_SECTIONS: { path: string; label: string; page: () => HTMLElement }[] = [
  { path: 'charts', label: 'Delivery', page: () => chartsPage() },
  { path: 'dead-letters', label: 'Dead letters', page: deadLettersPage },
  { path: 'suppressions', label: 'Suppressions', page: suppressionsPage },
  { path: 'templates', label: 'Templates', page: templatesPage },
  { path: 'workflows', label: 'Workflows', page: workflowsPage },
  { path: 'topics', label: 'Topics', page: topicsPage },
  { path: 'webhooks', label: 'Webhooks', page: webhooksPage },
  { path: 'categories', label: 'Categories', page: categoriesPage },
  { path: 'users', label: 'Users', page: usersPage },
  { path: 'api-keys', label: 'API keys', page: apiKeysPage },
  { path: 'subscribers', label: 'Subscribers', page: subscribersPage },
];

const main = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
let current: Disposable | undefined;

const navigate = (to: string) => {
  if (location.pathname !== '/') location.assign(`/${to}`);
  else location.hash = to;
};

function show(page: HTMLElement, title: string): void {
  current?.dispose?.();
  current = page;
  main.replaceChildren(page);
  document.title = `${title} · Herald`;
  // move focus to the new page's heading, so keyboard and screen reader users land on it
  const heading = page.querySelector('h1, h2') as HTMLElement | null;
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

function drawNav(): void {
  const me = session.me;
  const link = (href: string, text: string) =>
    h('a', {
      href,
      textContent: text,
      attrs: location.hash.startsWith(href) ? { 'aria-current': 'page' } : {},
    });
  const signOut = h('button', {
    type: 'button',
    className: 'link',
    textContent: 'Sign out',
    on: {
      click: () => {
        const refreshToken = session.tokens?.refreshToken;
        if (refreshToken) void post('/api/v1/auth/logout', { refreshToken }).catch(() => undefined);
        session.set(null);
        session.me = null;
        closeLiveSocket();
        navigate('#/login');
      },
    },
  });
  nav.replaceChildren(
    ...(me
      ? [
          link('#/inbox', 'Inbox'),
          me.role === 'admin' ? link('#/admin', 'Admin') : null,
          h('span', { className: 'who', textContent: me.email }),
          signOut,
        ]
      : [link('#/login', 'Log in'), link('#/signup', 'Sign up')]
    ).filter((node): node is HTMLElement => node !== null),
  );
}

function adminPage(section: string | undefined): HTMLElement {
  const chosen = ADMIN_SECTIONS.find((entry) => entry.path === section) ?? ADMIN_SECTIONS[0]!;
  const page = chosen.page() as Disposable;
  const wrapper = h(
    'section',
    { className: 'card admin' },
    h('h1', { textContent: 'Admin console' }),
    h(
      'nav',
      { className: 'tabs', attrs: { 'aria-label': 'Admin sections' } },
      ...ADMIN_SECTIONS.map((entry) =>
        h('a', {
          href: `#/admin/${entry.path}`,
          textContent: entry.label,
          attrs: entry === chosen ? { 'aria-current': 'page' } : {},
        }),
      ),
    ),
    page,
  ) as Disposable;
  wrapper.dispose = () => page.dispose?.();
  return wrapper;
}

async function route(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (location.pathname === '/verify-email')
    return show(verifyEmailPage(params.get('token')), 'Verify your email');
  if (location.pathname === '/reset-password')
    return show(resetPasswordPage(params.get('token')), 'Reset password');
  if (session.tokens && !session.me) await loadMe();
  drawNav();
  const [, first, second] = location.hash.replace(/^#/, '').split('/');
  if (first === 'signup') return show(signupPage(), 'Sign up');
  if (first === 'forgot') return show(forgotPasswordPage(), 'Reset password');
  if (!session.me) return show(loginPage(navigate), 'Log in');
  if (first === 'notifications' && second)
    return show(timelinePage(decodeURIComponent(second)), 'Notification');
  if (first === 'admin') {
    if (session.me.role !== 'admin')
      return show(h('section', { className: 'card' }, h('h1', { textContent: 'Admins only' })), 'Admin');
    return show(adminPage(second), 'Admin');
  }
  if (first !== 'inbox') {
    history.replaceState(null, '', '#/inbox');
    drawNav();
  }
  return show(inboxPage(navigate), 'Inbox');
}

window.addEventListener('hashchange', () => void route());
void route();
