// `pnpm seed`'s work, against a running platform (`pnpm start` in another
// terminal): through the public API only, as any client would, so the
// services stay the only writers of their data. Idempotent: a second run
// finds everything in place and changes nothing.
import { join } from 'node:path';
import { REPO_ROOT } from './gateway-config';
import { localCredentials, readRunningStack, type Credentials, type RunningStack } from './local-state';

export interface SeedOptions {
  /** the running stack's data directory (default .data/ in the repository) */
  dataDir?: string;
  /** ADMIN_EMAIL / ADMIN_PASSWORD, when the platform was started with them */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** how long to wait for the demo user's verification email at the fake Mailgun; default 30 s */
  mailTimeoutMs?: number;
}

export interface SeedResult {
  admin: Credentials & { fromEnv: boolean };
  demo: Credentials & { userId: string; emailVerified: boolean };
  /** the gateway, or auth's own port when nginx is not installed */
  baseUrl: string;
  swaggerUrls: string[];
  /** false when the demo user already had its welcome notification */
  welcomeSent: boolean;
}

const DEMO_NAME = 'Demo User';
const WELCOME_CATEGORY = 'welcome';

interface Tokens {
  accessToken: string;
}

interface UserView {
  id: string;
  email: string;
  role: 'user' | 'admin';
  emailVerified: boolean;
}

interface Answer<T> {
  status: number;
  body: T;
}

/** The platform's public API: the gateway when there is one, else each service on its own port. */
class Platform {
  constructor(private readonly stack: RunningStack) {}

  get baseUrl(): string {
    return this.stack.gatewayUrl ?? this.serviceUrl('auth');
  }

  get swaggerUrls(): string[] {
    if (this.stack.gatewayUrl) return [`${this.stack.gatewayUrl}/docs/`];
    return Object.values(this.stack.serviceUrls).map((url) => `${url}/docs`);
  }

  async call<T>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.urlFor(path)}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? safeJson(text) : undefined) as T };
  }

  /** Calls and insists on `expected`, failing with what was asked and what came back. */
  async expect<T>(
    expected: number,
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<T> {
    const answer = await this.call<T>(method, path, options);
    if (answer.status !== expected) throw unexpected(method, path, answer);
    return answer.body;
  }

  private urlFor(path: string): string {
    if (this.stack.gatewayUrl) return this.stack.gatewayUrl;
    // the gateway's routing, for a run without nginx
    return /^\/(api\/v1\/(auth|users)|\.well-known)\b/.test(path)
      ? this.serviceUrl('auth')
      : this.serviceUrl('notification');
  }

  private serviceUrl(name: string): string {
    const url = this.stack.serviceUrls[name];
    if (!url) throw new Error(`the running stack records no URL for ${name}`);
    return url;
  }
}

export async function seedPlatform(options: SeedOptions = {}): Promise<SeedResult> {
  const dataDir = options.dataDir ?? join(REPO_ROOT, '.data');
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const stack = readRunningStack(dataDir);
  if (!stack) {
    throw new Error(
      `no running Herald recorded in ${join(dataDir, 'stack.json')}: start it with \`pnpm start\` in another ` +
        'terminal, wait for "Herald is up", then run `pnpm seed` again',
    );
  }
  const platform = new Platform(stack);
  const local = localCredentials(dataDir);
  const admin = adminCredentials(stack, local, env);

  const adminToken = await logIn(platform, admin, 'the admin');
  const adminView = await platform.expect<UserView>(200, 'GET', '/api/v1/auth/me', { token: adminToken });
  if (adminView.role !== 'admin') {
    throw new Error(
      `${admin.email} can log in but is not an admin (auth never promotes an existing account)`,
    );
  }
  log(`admin ${admin.email}: ok`);

  const demo = local.demo;
  const existing = await findUser(platform, adminToken, demo.email);
  if (!existing) {
    await platform.expect(202, 'POST', '/api/v1/auth/register', {
      body: { email: demo.email, password: demo.password, name: DEMO_NAME },
    });
    log(`demo user ${demo.email}: registered`);
  } else {
    log(`demo user ${demo.email}: exists`);
  }
  const demoToken = await logIn(platform, demo, 'the demo user');
  let demoView = await platform.expect<UserView>(200, 'GET', '/api/v1/auth/me', { token: demoToken });
  if (!demoView.emailVerified) {
    if (stack.mailgunUrl) {
      await verifyThroughFakeMailgun(platform, stack.mailgunUrl, demo.email, demoToken, {
        timeoutMs: options.mailTimeoutMs ?? 30_000,
      });
      demoView = await platform.expect<UserView>(200, 'GET', '/api/v1/auth/me', { token: demoToken });
      log(`demo user ${demo.email}: email verified through the link the fake Mailgun received`);
    } else {
      log(`demo user ${demo.email}: email not verified (real providers: the link went to that address)`);
    }
  }

  const welcomeSent = await sendWelcome(platform, adminToken, demoToken, demoView.id);
  log(welcomeSent ? 'welcome notification: sent' : 'welcome notification: already in the inbox');

  return {
    admin,
    demo: { ...demo, userId: demoView.id, emailVerified: demoView.emailVerified },
    baseUrl: platform.baseUrl,
    swaggerUrls: platform.swaggerUrls,
    welcomeSent,
  };
}

/** The admin auth created at start: ADMIN_EMAIL's when the platform was started with it, else the local one. */
function adminCredentials(
  stack: RunningStack,
  local: { admin: Credentials },
  env: NodeJS.ProcessEnv,
): Credentials & { fromEnv: boolean } {
  if (env.ADMIN_EMAIL && env.ADMIN_PASSWORD) {
    return { email: env.ADMIN_EMAIL, password: env.ADMIN_PASSWORD, fromEnv: true };
  }
  if (stack.adminEmail && stack.adminEmail !== local.admin.email) {
    throw new Error(
      `the platform was started with ADMIN_EMAIL=${stack.adminEmail}: run \`pnpm seed\` with the same ` +
        'ADMIN_EMAIL and ADMIN_PASSWORD',
    );
  }
  return { ...local.admin, fromEnv: false };
}

async function logIn(platform: Platform, credentials: Credentials, who: string): Promise<string> {
  const answer = await platform.call<Tokens>('POST', '/api/v1/auth/login', {
    body: { email: credentials.email, password: credentials.password },
  });
  if (answer.status === 200) return answer.body.accessToken;
  if (answer.status === 401) {
    throw new Error(
      `${who} (${credentials.email}) cannot log in with the password on record. The database holds an account ` +
        'made with other credentials (was local-credentials.json deleted but not mongo/?): delete the data ' +
        'directory to start afresh, or give the right ADMIN_EMAIL / ADMIN_PASSWORD',
    );
  }
  throw unexpected('POST', '/api/v1/auth/login', answer);
}

async function findUser(
  platform: Platform,
  adminToken: string,
  email: string,
): Promise<UserView | undefined> {
  const page = await platform.expect<{ items: UserView[] }>(
    200,
    'GET',
    `/api/v1/users?limit=10&emailPrefix=${encodeURIComponent(email)}`,
    { token: adminToken },
  );
  return page.items.find((user) => user.email === email);
}

interface RecordedMail {
  recipient?: string;
  outcome: string;
  receivedAt: string;
  fields: Record<string, string[]>;
}

/**
 * Auth mails a verification link; with the fake providers it lands at the
 * fake Mailgun, whose control API lists what it accepted. The newest link
 * wins (a resend voids older ones); without one (the fake restarted since the
 * registration, or the link expired), a fresh one is asked for once.
 */
async function verifyThroughFakeMailgun(
  platform: Platform,
  mailgunUrl: string,
  email: string,
  token: string,
  { timeoutMs }: { timeoutMs: number },
): Promise<void> {
  let since = 0;
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const link = await waitForVerificationToken(mailgunUrl, email, since, timeoutMs);
    if (link) {
      const answer = await platform.call('POST', '/api/v1/auth/verify-email', { body: { token: link } });
      if (answer.status === 204) return;
      if (attempt === 2) throw unexpected('POST', '/api/v1/auth/verify-email', answer);
    }
    since = Date.now();
    const resend = await platform.call('POST', '/api/v1/auth/verify-email/resend', { token });
    if (resend.status === 429) {
      throw new Error('auth allows one verification email a minute: run `pnpm seed` again in a minute');
    }
    if (resend.status !== 202) throw unexpected('POST', '/api/v1/auth/verify-email/resend', resend);
  }
  throw new Error(`no verification email for ${email} reached the fake Mailgun at ${mailgunUrl}`);
}

async function waitForVerificationToken(
  mailgunUrl: string,
  email: string,
  since: number,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${mailgunUrl}/__fake/requests?limit=1000`);
    if (!response.ok) throw new Error(`the fake Mailgun's control API answered ${response.status}`);
    const mails = ((await response.json()) as RecordedMail[]).filter(
      (mail) =>
        mail.outcome === 'accepted' && mail.recipient === email && Date.parse(mail.receivedAt) >= since,
    );
    const newest = mails[mails.length - 1];
    if (newest) {
      const content = [...(newest.fields.text ?? []), ...(newest.fields.html ?? [])].join('\n');
      const token = /token=([^\s"'<&]+)/.exec(content)?.[1];
      if (token) return decodeURIComponent(token);
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** One welcome in the demo user's inbox, ever: looked for first (archived too), keyed against a race. */
async function sendWelcome(
  platform: Platform,
  adminToken: string,
  demoToken: string,
  demoUserId: string,
): Promise<boolean> {
  for (const archived of [false, true]) {
    const inbox = await platform.expect<{ items: unknown[] }>(
      200,
      'GET',
      `/api/v1/notifications?limit=1&category=${WELCOME_CATEGORY}&archived=${archived}`,
      { token: demoToken },
    );
    if (inbox.items.length > 0) return false;
  }
  // a send must name a category that exists: created once (409 on a later run is the same category)
  const category = await platform.call('POST', '/api/v1/categories', {
    token: adminToken,
    body: { key: WELCOME_CATEGORY, name: 'Welcome', defaultChannels: ['in_app'] },
  });
  if (category.status !== 201 && category.status !== 409) {
    throw unexpected('POST', '/api/v1/categories', category);
  }
  await platform.expect(202, 'POST', '/api/v1/notifications', {
    token: adminToken,
    headers: { 'idempotency-key': `seed-welcome-${demoUserId}` },
    body: {
      recipient: { userId: demoUserId },
      channels: ['in_app'],
      category: WELCOME_CATEGORY,
      title: 'Welcome to Herald',
      body: 'This is your inbox. Notifications sent to you appear here, and live on a connected socket.',
    },
  });
  return true;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function unexpected(method: string, path: string, answer: Answer<unknown>): Error {
  const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  return new Error(`${method} ${path} answered ${answer.status}: ${(body ?? '').slice(0, 500)}`);
}
