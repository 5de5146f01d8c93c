// The web app and the inbox component in Debian's Chromium, through the real
// gateway: what a person sees. One stack and one browser for the file; each
// story (a user, an admin, a page embedding the inbox) has its own browser
// context, and its steps share state like the end-to-end suite's.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { WebhookPaths } from '@herald/contracts';
import { field } from '@herald/fake-providers';
import { waitFor } from '@herald/test-support';
import { type Page } from 'playwright-core';
import {
  expectStatus,
  fromEarlierStep,
  gatewayClient,
  type GatewayClient,
} from '../../../e2e/test/support/http';
import { requireNginx, startE2eStack, type E2eStack } from '../../../e2e/test/support/stack';
import {
  buildWebApp,
  launchBrowser,
  requireChromium,
  screenshot,
  seriousViolations,
  type RecordingPage,
  type TestBrowser,
} from './support/browser';

jest.setTimeout(90_000);
requireNginx();
requireChromium();

// Generous: two shared cores. Nothing sleeps; these only bound the waits.
const EVENTUALLY = { timeoutMs: 30_000, intervalMs: 100 };
const UI = { timeout: 30_000 };
const run = randomBytes(4).toString('hex');

describe('the web app in a browser, through the gateway', () => {
  let stack: E2eStack;
  let api: GatewayClient;
  let browser: TestBrowser;
  const pages: RecordingPage[] = [];

  beforeAll(async () => {
    buildWebApp();
    [stack, browser] = await Promise.all([startE2eStack(), launchBrowser()]);
    api = gatewayClient(stack.gatewayUrl);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  }, 60_000);

  const open = async () => {
    const recording = await browser.open();
    pages.push(recording);
    return recording;
  };
  const login = async (email: string, password: string) =>
    expectStatus(await api.post<{ accessToken: string }>('/api/v1/auth/login', { email, password }), 200).body
      .accessToken;
  // the gateway limits logins and registrations per client address (10 a minute, burst 10): the
  // suite logs the admin in through the API once
  let adminToken: Promise<string> | undefined;
  const adminApiToken = () => (adminToken ??= login(stack.admin.email, stack.admin.password));
  /** what a page requested from anywhere but the gateway (data: URLs are the page's own) */
  const foreignRequests = (recording: RecordingPage) =>
    recording.requests.filter((url) => !url.startsWith(`${stack.gatewayUrl}/`) && !url.startsWith('data:'));
  const expectAccessible = async (page: Page, what: string) =>
    expect({ what, violations: await seriousViolations(page) }).toEqual({ what, violations: [] });
  /**
   * A page's console errors, less those the story provoked on purpose: Chromium logs every refused
   * request ("Failed to load resource: … 422"), and a story that shows the server's refusal makes
   * one. Each provoked status excuses one such line, no more.
   */
  const unexpectedErrors = (recording: RecordingPage, provoked: number[]) => {
    const left = [...provoked];
    return recording.errors.filter((error) => {
      const index = left.findIndex((status) =>
        error.includes(`Failed to load resource: the server responded with a status of ${status} `),
      );
      if (index === -1) return true;
      left.splice(index, 1);
      return false;
    });
  };
  /** the badge of the <herald-inbox> on the page (playwright's CSS locators pierce its open shadow root) */
  const badgeCount = (page: Page) => page.locator('herald-inbox .badge').getAttribute('data-count');

  describe('the gateway serves the app beside the API', () => {
    it('answers the page at /, /verify-email and /reset-password, its assets and the inbox bundle', async () => {
      for (const path of ['/', '/verify-email?token=x', '/reset-password?token=x']) {
        const response = await fetch(`${stack.gatewayUrl}${path}`);
        const html = await response.text();
        expect({ path, status: response.status, type: response.headers.get('content-type') }).toEqual({
          path,
          status: 200,
          type: expect.stringContaining('text/html'),
        });
        // the server's security headers reach the page too, with a strict policy: no inline
        // script or style, nothing from another origin, no framing
        expect(response.headers.get('x-frame-options')).toBe('DENY');
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('referrer-policy')).toBe('no-referrer');
        const policy = response.headers.get('content-security-policy') ?? '';
        expect(policy).toContain("script-src 'self';");
        expect(policy).toContain("style-src 'self';");
        expect(policy).toContain("frame-ancestors 'none'");
        expect(policy).not.toContain('unsafe');
        // and the built page itself carries no inline script or style
        expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=/);
        const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
        if (!asset) throw new Error(`the page names no script under /assets/: ${html.slice(0, 300)}`);
        const script = await fetch(`${stack.gatewayUrl}${asset}`);
        expect({ asset, status: script.status, type: script.headers.get('content-type') }).toEqual({
          asset,
          status: 200,
          type: expect.stringContaining('javascript'),
        });
      }
      const bundle = await fetch(`${stack.gatewayUrl}/inbox/herald-inbox.js`);
      expect(bundle.status).toBe(200);
      expect(await bundle.text()).toContain('herald-inbox');
    });

    it("enforces the page's Content-Security-Policy: an injected inline script or style does not apply", async () => {
      const { page, errors } = await browser.open();
      await page.goto(`${stack.gatewayUrl}/#/login`);
      await page.getByRole('button', { name: 'Log in' }).waitFor(UI);
      const applied = await page.evaluate(`(() => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.body.append(script);
        const style = document.createElement('style');
        style.textContent = 'body { outline: 7px solid red }';
        document.head.append(style);
        return { script: window.injected === true, style: getComputedStyle(document.body).outlineWidth === '7px' };
      })()`);
      expect(applied).toEqual({ script: false, style: false });
      // the browser says why, once for each
      expect(errors.filter((error) => error.includes('Content Security Policy'))).toHaveLength(2);
    });

    it('keeps Swagger UI at /docs/ working under its own policy', async () => {
      const { page, errors } = await browser.open();
      await page.goto(`${stack.gatewayUrl}/docs/`);
      await page.locator('.swagger-ui .info .title').waitFor(UI);
      await page.locator('.swagger-ui .opblock').first().waitFor(UI);
      expect(errors).toEqual([]);
    });

    it('keeps unknown paths, under /api/ or not, a JSON 404', async () => {
      for (const path of [
        '/api/v1/no-such-thing',
        '/no/such/route',
        '/verify-email/more',
        '/assets/missing.js',
      ]) {
        const response = await fetch(`${stack.gatewayUrl}${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 404 });
        if (!path.startsWith('/assets/')) {
          expect(response.headers.get('content-type')).toBe('application/problem+json');
        }
      }
    });
  });

  describe('a person signs up, gets a notification live and follows its delivery', () => {
    const ada = { name: 'Ada', email: `ada.${run}@example.com`, password: 'correct horse battery staple' };
    let user: RecordingPage | undefined;
    let notificationId: string | undefined;
    const title = `Your order ${run} shipped`;

    it('signs up in the form; the verification link arrives at the fake Mailgun and opens the app', async () => {
      user = await open();
      const { page } = user;
      await page.goto(`${stack.gatewayUrl}/#/signup`);
      await expectAccessible(page, 'sign-up page');
      await page.getByLabel('Name').fill(ada.name);
      await page.getByLabel('Email').fill(ada.email);
      await page.getByLabel('Password (8 characters or more)').fill(ada.password);
      await page.getByRole('button', { name: 'Sign up' }).click();
      await page.getByText('Check your email').waitFor(UI);

      const mail = await waitFor(
        () => stack.mailgun.accepted.find((message) => message.recipient === ada.email),
        {
          ...EVENTUALLY,
          description: 'the verification email at the fake Mailgun',
        },
      );
      const content = [...(mail.fields.text ?? []), ...(mail.fields.html ?? [])].join('\n');
      const link = /https?:\/\/[^\s"'<]+\/verify-email\?token=[^\s"'<]+/
        .exec(content)?.[0]
        ?.replace(/&amp;/g, '&');
      if (!link) throw new Error(`the email carries no link to /verify-email: ${content.slice(0, 500)}`);
      expect(link.startsWith(`${stack.gatewayUrl}/verify-email?token=`)).toBe(true);
      await page.goto(link);
      await page.getByText('Your email address is verified').waitFor(UI);
    });

    it('logs in and sees the empty inbox', async () => {
      const { page } = fromEarlierStep(user, 'the signed-up user');
      await page.getByRole('link', { name: 'Log in' }).click();
      await page.getByLabel('Email').fill(ada.email);
      await page.getByLabel('Password').fill(ada.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Inbox' }).waitFor(UI);
      await page.getByText('No notifications yet').waitFor(UI);
      expect(await badgeCount(page)).toBe('0');
    });

    it('shows a notification sent through the API live, with the badge at 1', async () => {
      const { page } = fromEarlierStep(user, 'the logged-in user');
      const token = await login(ada.email, ada.password);
      const me = expectStatus(await api.get<{ id: string }>('/api/v1/auth/me', { token }), 200).body;
      // the notification service learns the user from auth's event: until then 422
      const accepted = await waitFor(
        async () => {
          const response = await api.post<{ id: string }>(
            '/api/v1/notifications',
            {
              recipient: { userId: me.id },
              channels: ['in_app', 'email'],
              title,
              body: 'Parcel 42 is on its way.',
            },
            { token },
          );
          return response.status === 422 ? undefined : expectStatus(response, 202);
        },
        { ...EVENTUALLY, description: 'the notification service to accept a notification for Ada' },
      );
      notificationId = accepted.body.id;
      // no reload: the item arrives over the socket
      await page.getByRole('button', { name: title, exact: true }).waitFor(UI);
      await page.locator('herald-inbox .badge[data-count="1"]').waitFor(UI);
      expect(
        await page.locator('herald-inbox').getByRole('button', { name: 'Notifications, 1 unread' }).count(),
      ).toBe(1);
      await expectAccessible(page, 'inbox');
      await screenshot(page, 'inbox');
    });

    it("opens its timeline, which turns email to delivered live after Mailgun's signed webhook", async () => {
      const { page } = fromEarlierStep(user, 'the logged-in user');
      const id = fromEarlierStep(notificationId, 'the notification');
      await page.getByRole('button', { name: title, exact: true }).click();
      await page.getByRole('heading', { name: title }).waitFor(UI);
      const email = page.locator('[data-channel="email"]');
      await email.locator('[data-status="sent"]').waitFor(UI);
      const message = await waitFor(
        () => stack.mailgun.accepted.find((sent) => field(sent, 'v:notification-id') === id),
        { ...EVENTUALLY, description: 'the email of the notification at the fake Mailgun' },
      );
      const response = await stack.mailgun.sendWebhook(`${stack.gatewayUrl}${WebhookPaths.mailgun}`, {
        event: 'delivered',
        message,
      });
      expect(response.status).toBe(200);
      await email.locator('[data-status="delivered"]').waitFor(UI);
      // the steps, in order, as the history tells them
      expect(await email.locator('ol.timeline li strong').allTextContents()).toEqual(
        expect.arrayContaining(['queued', 'sent', 'delivered']),
      );
      await expectAccessible(page, 'timeline');
      await screenshot(page, 'timeline');
    });

    it('marks it read in the inbox: the badge goes to 0', async () => {
      const { page } = fromEarlierStep(user, 'the logged-in user');
      await page.getByRole('link', { name: '← Inbox' }).click();
      await page.getByRole('button', { name: `Mark read: ${title}` }).click();
      await page.locator('herald-inbox .badge[data-count="0"]').waitFor({ ...UI, state: 'attached' });
      expect(await page.locator('herald-inbox .badge').isHidden()).toBe(true);
      await page.getByRole('button', { name: `Mark unread: ${title}` }).waitFor(UI);
    });

    it('keeps the badge at 0 when the count asked for at start answers after a mark-read', async () => {
      const { page } = fromEarlierStep(user, 'the logged-in user');
      await page.getByRole('button', { name: `Mark unread: ${title}` }).click();
      await page.locator('herald-inbox .badge[data-count="1"]').waitFor(UI);
      // The inbox asks for the unread count once its first page is in; hold that answer (taken while
      // the notification is still unread, so it says 1) until after the notification was marked read.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let held = false;
      await page.route('**/api/v1/notifications/unread-count', async (route) => {
        if (held) return route.continue();
        held = true;
        const answer = await route.fetch();
        await released;
        await route.fulfill({ response: answer });
      });
      try {
        await page.reload();
        await page.getByRole('button', { name: `Mark read: ${title}` }).waitFor(UI);
        // the first count the inbox shows from here: the mark-read's own (the start's is held, and the
        // socket opens only after it)
        await page.evaluate(`void (window.firstCountShown = new Promise((resolve) =>
          document.querySelector('herald-inbox').addEventListener('herald:unread-count',
            (event) => resolve(event.detail.count), { once: true })))`);
        await page.getByRole('button', { name: `Mark read: ${title}` }).click();
        expect(await page.evaluate('window.firstCountShown')).toBe(0);
        expect(held).toBe(true);
        // the socket opens right after the start's count was handled: then the stale 1 is in, or dropped
        const socketOpened = page.waitForEvent('websocket', UI);
        release();
        await socketOpened;
        expect(await page.locator('herald-inbox .badge').getAttribute('data-count')).toBe('0');
        expect(await page.locator('herald-inbox .badge').isHidden()).toBe(true);
      } finally {
        release();
        await page.unroute('**/api/v1/notifications/unread-count');
      }
    });

    it('fits a narrow screen: nothing scrolls sideways', async () => {
      const { page } = fromEarlierStep(user, 'the logged-in user');
      await page.setViewportSize({ width: 360, height: 740 });
      await page.getByRole('button', { name: `Mark unread: ${title}` }).waitFor(UI);
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await screenshot(page, 'inbox-narrow');
      await page.setViewportSize({ width: 1200, height: 900 });
    });

    it('signs out, resets the forgotten password from the emailed link and logs in with the new one', async () => {
      const { page } = fromEarlierStep(user, 'the logged-in user');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      // the form of the page the link leads to: the app routes on the hash, and a fill that ran while
      // the login form was still shown left this one empty (its required field then stops the submit)
      const forgot = page.getByRole('form', { name: 'Reset your password' });
      await forgot.getByLabel('Email').fill(ada.email);
      await forgot.getByRole('button', { name: 'Send me a link' }).click();
      await page.getByText('a link to reset its password is on its way').waitFor(UI);
      const link = await waitFor(
        () =>
          stack.mailgun.accepted
            .filter((message) => message.recipient === ada.email)
            .map((message) => [...(message.fields.text ?? []), ...(message.fields.html ?? [])].join('\n'))
            .map((content) => /https?:\/\/[^\s"'<]+\/reset-password\?token=[^\s"'<]+/.exec(content)?.[0])
            .find(Boolean),
        { ...EVENTUALLY, description: 'the password-reset email with its link' },
      );
      expect(link.startsWith(`${stack.gatewayUrl}/reset-password?token=`)).toBe(true);
      await page.goto(link.replace(/&amp;/g, '&'));
      const newPassword = 'a brand new passphrase';
      await page.getByLabel('New password (8 characters or more)').fill(newPassword);
      await page.getByRole('button', { name: 'Set password' }).click();
      await page.getByText('Your password is changed').waitFor(UI);
      await expectAccessible(page, 'reset password');
      await page.getByRole('link', { name: 'Log in' }).click();
      await page.getByLabel('Email').fill(ada.email);
      await page.getByLabel('Password').fill(newPassword);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('heading', { name: 'Inbox' }).waitFor(UI);
    });

    it('logged no console error and requested nothing from anyone but the gateway', () => {
      const recording = fromEarlierStep(user, 'the user page');
      expect(recording.errors).toEqual([]);
      expect(recording.requests.length).toBeGreaterThan(0);
      expect(foreignRequests(recording)).toEqual([]);
    });
  });

  describe('an admin replays a dead letter from the console', () => {
    let admin: RecordingPage | undefined;
    let notificationId: string | undefined;
    /** the refusals the admin's stories provoke on purpose (each logs a console error) */
    const provoked: number[] = [];

    it('logs in as the admin and sees the delivery charts', async () => {
      admin = await open();
      const { page } = admin;
      await page.goto(`${stack.gatewayUrl}/`);
      await page.getByLabel('Email').fill(stack.admin.email);
      await page.getByLabel('Password').fill(stack.admin.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('link', { name: 'Admin' }).click();
      await page.getByRole('heading', { name: 'Delivery' }).waitFor(UI);
      // the totals table is drawn once every day's numbers are in, the chart with it
      await page.getByRole('table', { name: 'Totals for the period' }).waitFor(UI);
      await expectAccessible(page, 'admin charts');
      await screenshot(page, 'admin-charts');
    });

    it('replays a dead email; the console shows it replayed and its timeline shows it sent', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      const token = await adminApiToken();
      const address = `bounce.${run}@example.com`;
      // a permanent refusal: no retry, straight to the dead letters
      stack.mailgun.failFor(address, { status: 400, message: `'to' parameter is not a valid address` });
      const created = expectStatus(
        await api.post<{ id: string }>(
          '/api/v1/notifications',
          {
            recipient: { email: address },
            channels: ['email'],
            title: 'Receipt',
            body: 'Thanks for your order.',
          },
          { token },
        ),
        202,
      );
      notificationId = created.body.id;
      const deadLetter = await waitFor(
        async () =>
          expectStatus(
            await api.get<{ items: { id: string; state: string }[] }>(
              `/api/v1/admin/dead-letters?notificationId=${notificationId}`,
              {
                token,
              },
            ),
            200,
          ).body.items.find((item) => item.state === 'pending'),
        { ...EVENTUALLY, description: 'the dead letter of the refused email' },
      );
      stack.mailgun.clearFailures();

      await page.getByRole('link', { name: 'Dead letters' }).click();
      await page.getByRole('button', { name: `Replay dead letter ${deadLetter.id}` }).click();
      await page.getByText('Replayed: the message is back in its queue').waitFor(UI);
      const row = page.locator('tr', { has: page.locator(`a[href="#/notifications/${notificationId}"]`) });
      await row.locator('[data-state="replayed"]').waitFor(UI);
      await expectAccessible(page, 'dead letters');
      await row.getByRole('link', { name: 'Timeline' }).click();
      await page.locator('[data-channel="email"] [data-status="sent"]').waitFor(UI);
      // the refusal stays in the history, with the provider's reason
      const failed = page.locator('[data-channel="email"] ol.timeline li.bad', { hasText: 'failed' });
      await failed.locator('.reason').first().waitFor(UI);
      await screenshot(page, 'timeline-replayed');
    });

    it('creates a template, previews its unsaved draft per channel as the admin types, saves a new version', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      const key = `welcome-${run}`;
      await page.goto(`${stack.gatewayUrl}/#/admin/templates`);
      await page.getByLabel('New template key').fill(key);
      await page.getByRole('button', { name: 'Create template' }).click();
      await page.getByRole('heading', { name: `Edit ${key}` }).waitFor(UI);
      const preview = page.locator('.preview');
      await preview.getByText('Subject: Hello Ada').waitFor(UI);
      await page.getByLabel('Channel').selectOption('in_app');
      await preview.getByText('Hello Ada').waitFor(UI);
      await page.getByLabel('Sample data (JSON)').fill('{ "name": "Grace" }');
      await preview.getByText('Hello Grace').waitFor(UI);

      // the preview follows the editor before anything is saved
      const source = page.getByLabel('Template (JSON)');
      const saved = await source.inputValue();
      await source.fill(saved.replace('"title": "Hello {{name}}"', '"title": "Welcome, {{name}}"'));
      await preview.getByText('Welcome, Grace').waitFor(UI);
      await preview.getByText('Unsaved draft, locale en').waitFor(UI);
      // a part that does not compile: the server's 422 names it, and nothing was saved
      await source.fill(saved.replace('<p>Hello {{name}}</p>', '<p>{{#if name}}Hello</p>'));
      provoked.push(422);
      await preview.getByText('/body/template/locales/en/html').waitFor(UI);
      await source.fill(saved.replace('"title": "Hello {{name}}"', '"title": "Welcome, {{name}}"'));
      await preview.getByText('Welcome, Grace').waitFor(UI);
      expect(await page.getByRole('table', { name: 'Versions' }).getByText('v2').count()).toBe(0);
      await page.getByRole('button', { name: 'Save new version' }).click();
      await page.getByText('Saved version 2').waitFor(UI);
      await page.getByLabel('Version').selectOption('2');
      await preview.getByText('Version 2, locale en').waitFor(UI);
      await preview.getByText('Welcome, Grace').waitFor(UI);
      await page.getByRole('table', { name: 'Versions' }).getByText('v2').waitFor(UI);
      // an older version still previews as it was
      await page.getByLabel('Version').selectOption('1');
      await preview.getByText('Hello Grace').waitFor(UI);
      await expectAccessible(page, 'template editor');
    });

    it('makes a user an admin and disables them from the users table', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      const grace = `grace.${run}@example.com`;
      expectStatus(
        await api.post('/api/v1/auth/register', {
          email: grace,
          password: 'another long passphrase',
          name: 'Grace',
        }),
        202,
      );
      await page.goto(`${stack.gatewayUrl}/#/admin/users`);
      await page.getByLabel(`Role of ${grace}`).selectOption('admin');
      await page.getByText(`${grace} updated`).waitFor(UI);
      await page.getByRole('button', { name: `Disable ${grace}` }).click();
      await page.getByRole('button', { name: `Enable ${grace}` }).waitFor(UI);

      const users = expectStatus(
        await api.get<{ items: { email: string; role: string; disabled: boolean }[] }>(
          `/api/v1/users?emailPrefix=${encodeURIComponent(grace)}`,
          { token: await adminApiToken() },
        ),
        200,
      ).body.items;
      expect(users.map(({ email, role, disabled }) => ({ email, role, disabled }))).toEqual([
        { email: grace, role: 'admin', disabled: true },
      ]);
    });

    it('shows the other console sections without an accessibility violation', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      for (const [section, heading] of [
        ['templates', 'Templates'],
        ['categories', 'Categories'],
        ['users', 'Users'],
        ['api-keys', 'API keys'],
        ['subscribers', 'Subscribers'],
        ['suppressions', 'Suppressions'],
        ['workflows', 'Workflows'],
        ['topics', 'Topics'],
        ['webhooks', 'Outgoing webhooks'],
      ] as const) {
        await page.goto(`${stack.gatewayUrl}/#/admin/${section}`);
        await page.getByRole('heading', { name: heading, exact: true }).waitFor(UI);
        await page.locator('table').first().waitFor(UI);
        await expectAccessible(page, `admin ${section}`);
      }
    });

    it('logged no console error and requested nothing from anyone but the gateway', () => {
      const recording = fromEarlierStep(admin, 'the admin page');
      expect(unexpectedErrors(recording, provoked)).toEqual([]);
      expect(recording.requests.length).toBeGreaterThan(0);
      expect(foreignRequests(recording)).toEqual([]);
    });
  });

  describe('a plain HTML page embeds <herald-inbox> with an inbox token', () => {
    let embed: RecordingPage | undefined;
    let apiKey: string | undefined;
    let aliceToken: string | undefined;
    const [alice, bob] = [`alice-${run}`, `bob-${run}`];
    /** an in-app send with the application's key (422 until the notification service knows the subscriber) */
    const sendTo = (key: string, subscriberId: string, title: string) =>
      waitFor(
        async () => {
          const response = await api.post(
            '/api/v1/notifications',
            { recipient: { subscriberId }, channels: ['in_app'], title, body: 'Order update' },
            { token: key },
          );
          return response.status === 422 ? undefined : expectStatus(response, 202);
        },
        { ...EVENTUALLY, description: `the notification service to accept a send to ${subscriberId}` },
      );

    it("shows that subscriber's notifications only, and a new one live", async () => {
      const token = await adminApiToken();
      const key = expectStatus(
        await api.post<{ key: string }>(
          '/api/v1/api-keys',
          { name: `shop ${run}`, scopes: ['notifications:send', 'subscribers:write'] },
          { token },
        ),
        201,
      ).body.key;
      for (const subscriber of [alice, bob]) {
        expectStatus(
          await api.request('PUT', `/api/v1/subscribers/${subscriber}`, {
            token: key,
            body: { name: subscriber },
          }),
          201,
        );
      }
      apiKey = key;
      const send = (subscriberId: string, title: string) => sendTo(key, subscriberId, title);
      await send(alice, `For Alice ${run}`);
      await send(bob, `For Bob ${run}`);
      const inboxToken = expectStatus(
        await api.post<{ token: string }>(`/api/v1/subscribers/${alice}/inbox-token`, undefined, {
          token: key,
        }),
        200,
      ).body.token;

      aliceToken = inboxToken;
      embed = await open();
      const { page } = embed;
      await page.goto(
        `${stack.gatewayUrl}/examples/inbox-component.html?open&token=${encodeURIComponent(inboxToken)}`,
      );
      await page.getByRole('button', { name: `For Alice ${run}`, exact: true }).waitFor(UI);
      await page.locator('herald-inbox .badge[data-count="1"]').waitFor(UI);
      expect(await page.getByRole('button', { name: `For Bob ${run}`, exact: true }).count()).toBe(0);

      await send(alice, `Again for Alice ${run}`);
      await page.getByRole('button', { name: `Again for Alice ${run}`, exact: true }).waitFor(UI);
      await page.locator('herald-inbox .badge[data-count="2"]').waitFor(UI);
      expect(await page.locator('herald-inbox li.item').count()).toBe(2);
      await expectAccessible(page, 'embedded inbox');
      await screenshot(page, 'embedded-inbox');
    });

    it('catches up after a reconnect: what arrived while offline shows once, the badge counts it once', async () => {
      const { page } = fromEarlierStep(embed, 'the embedding page');
      const key = fromEarlierStep(apiKey, 'the API key');
      const socketOf = "document.querySelector('herald-inbox').socket";
      await page.evaluate(`${socketOf}.disconnect()`);
      await sendTo(key, alice, `While offline ${run}`);
      await page.evaluate(`${socketOf}.connect()`);
      await page.getByRole('button', { name: `While offline ${run}`, exact: true }).waitFor(UI);
      await page.locator('herald-inbox .badge[data-count="3"]').waitFor(UI);
      // replayed (since = the newest seen) and never twice, however the replay and the list overlap
      expect(await page.locator('herald-inbox li.item').count()).toBe(3);
    });

    it('works from the keyboard: Escape closes the panel and returns focus to the bell, Enter opens it', async () => {
      const { page } = fromEarlierStep(embed, 'the embedding page');
      const bell = page.locator('herald-inbox button.bell');
      await page.getByRole('button', { name: `For Alice ${run}`, exact: true }).focus();
      await page.keyboard.press('Escape');
      await page.locator('herald-inbox .panel').waitFor({ ...UI, state: 'hidden' });
      const bellHasFocus = `document.querySelector('herald-inbox').shadowRoot.activeElement?.classList.contains('bell')`;
      expect(await page.evaluate(bellHasFocus)).toBe(true);
      expect(await bell.getAttribute('aria-expanded')).toBe('false');
      await page.keyboard.press('Enter');
      await page.locator('herald-inbox .panel').waitFor(UI);
      expect(await bell.getAttribute('aria-expanded')).toBe('true');
    });

    it('loads older notifications as the list scrolls (the cursor API, 20 a page)', async () => {
      const key = fromEarlierStep(apiKey, 'the API key');
      // 3 so far; 19 more make 22, more than the first page
      for (let i = 1; i <= 19; i += 1) await sendTo(key, alice, `Older ${String(i).padStart(2, '0')} ${run}`);
      const token = expectStatus(
        await api.post<{ token: string }>(`/api/v1/subscribers/${alice}/inbox-token`, undefined, {
          token: key,
        }),
        200,
      ).body.token;
      const { page } = await open();
      // the pages the component asked for, as the gateway answered them (the second may be asked for as
      // soon as the list's end is in view: how soon depends on layout, so it is not timed here)
      const pages: { cursor: string | null; items: number; nextCursor: string | null }[] = [];
      page.on('response', (response) => {
        const url = new URL(response.url());
        if (url.pathname !== '/api/v1/notifications' || response.request().method() !== 'GET') return;
        void response
          .json()
          .then((body: { items: unknown[]; nextCursor: string | null }) =>
            pages.push({
              cursor: url.searchParams.get('cursor'),
              items: body.items.length,
              nextCursor: body.nextCursor,
            }),
          )
          // a page closed before its body was read: nothing to record
          .catch(() => undefined);
      });
      await page.goto(
        `${stack.gatewayUrl}/examples/inbox-component.html?open&token=${encodeURIComponent(token)}`,
      );
      const items = page.locator('herald-inbox li.item');
      await items.nth(19).waitFor(UI);
      await items.nth(19).scrollIntoViewIfNeeded();
      await page.getByRole('button', { name: `For Alice ${run}`, exact: true }).waitFor(UI);
      expect(await items.count()).toBe(22);
      await waitFor(() => pages.some((one) => one.cursor !== null), {
        description: 'the second page answered',
      });
      const first = pages.find((one) => one.cursor === null);
      expect(first).toEqual({ cursor: null, items: 20, nextCursor: expect.any(String) });
      expect(pages.find((one) => one.cursor !== null)).toEqual({
        cursor: first!.nextCursor,
        items: 2,
        nextCursor: null,
      });
    });

    it('opens the preference center and saves a muted channel', async () => {
      const { page } = fromEarlierStep(embed, 'the embedding page');
      await page.getByRole('button', { name: 'Preferences' }).click();
      const form = page.getByRole('form', { name: 'Notification preferences' });
      await form.getByLabel('Email').uncheck();
      await form.getByRole('button', { name: 'Save preferences' }).click();
      await page.getByText('Preferences saved').waitFor(UI);
      const stored = expectStatus(
        await api.get<{ channels: Record<string, boolean> }>('/api/v1/preferences', {
          token: fromEarlierStep(aliceToken, "Alice's inbox token"),
        }),
        200,
      ).body;
      expect(stored.channels).toMatchObject({ email: false, in_app: true });
      await expectAccessible(page, 'preference center');
      await screenshot(page, 'preference-center');
    });

    it('logged no console error and requested nothing from anyone but the gateway', () => {
      const recording = fromEarlierStep(embed, 'the embedding page');
      expect(recording.errors).toEqual([]);
      expect(recording.requests.length).toBeGreaterThan(0);
      expect(foreignRequests(recording)).toEqual([]);
    });
  });

  // Last in the file: these stories load the stack (a fan-out to a topic, webhook dispatch), and the
  // embedded inbox's live badge check once timed out after them (see apps/web/README.md, Notes).
  describe('an admin runs workflows, topics and outgoing webhooks from the console', () => {
    let admin: RecordingPage | undefined;
    const provoked: number[] = [];

    it('logs in as the admin', async () => {
      admin = await open();
      const { page } = admin;
      await page.goto(`${stack.gatewayUrl}/`);
      await page.getByLabel('Email').fill(stack.admin.email);
      await page.getByLabel('Password').fill(stack.admin.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('link', { name: 'Admin' }).waitFor(UI);
    });

    it('creates a workflow from JSON (the 400 names the step), reads its versions and steps, cancels a run', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      const token = await adminApiToken();
      const template = `wf-note-${run}`;
      expectStatus(
        await api.post(
          '/api/v1/templates',
          {
            key: template,
            channels: ['in_app'],
            defaultLocale: 'en',
            locales: { en: { inApp: { title: 'Reminder', body: 'Your invoice is due' } } },
          },
          { token },
        ),
        201,
      );
      // the workflows service learns templates from template.changed: until then a step naming it is 400
      await waitFor(
        async () => {
          const probe = await api.post(
            '/api/v1/workflows',
            {
              key: `wf-probe-${run}`,
              steps: [{ id: 'inbox', type: 'channel', channel: 'in_app', template }],
            },
            { token },
          );
          return probe.status === 201 ? probe : undefined;
        },
        { ...EVENTUALLY, description: `the workflows service to know template ${template}` },
      );

      const key = `reminder-${run}`;
      const steps = [
        { id: 'wait', type: 'delay', duration: '1h' },
        { id: 'inbox', type: 'channel', channel: 'in_app', template },
      ];
      await page.goto(`${stack.gatewayUrl}/#/admin/workflows`);
      await page.getByRole('table', { name: 'Workflows' }).waitFor(UI);
      await page.getByLabel('Workflow key').fill(key);
      const source = page.getByLabel('Definition (JSON)');
      await source.fill(
        JSON.stringify({ name: 'Reminder', steps: [steps[0], { id: 'oops', type: 'teleport' }] }),
      );
      provoked.push(400);
      await page.getByRole('button', { name: 'Save workflow' }).click();
      await page.getByText('/body/steps/1 step "oops": unknown step type "teleport"').waitFor(UI);

      await source.fill(JSON.stringify({ name: 'Reminder', steps }));
      await page.getByRole('button', { name: 'Save workflow' }).click();
      await page.getByText(`Saved ${key} version 1`).waitFor(UI);
      await page
        .getByRole('list', { name: `Steps of ${key} v1` })
        .getByText('wait — delay (duration: 1h)')
        .waitFor(UI);
      await page.getByRole('button', { name: 'Edit in the editor' }).click();
      await source.fill((await source.inputValue()).replace('"1h"', '"2h"'));
      await page.getByRole('button', { name: 'Save workflow' }).click();
      await page.getByText(`Saved ${key} version 2`).waitFor(UI);
      await page
        .getByRole('list', { name: `Steps of ${key} v2` })
        .getByText('wait — delay (duration: 2h)')
        .waitFor(UI);
      // the first version stays readable; the versions list says who saved each
      const versions = page.getByLabel('Version').locator('option');
      await versions.filter({ hasText: /^v1, .+ by \S+$/ }).waitFor({ ...UI, state: 'attached' });
      expect(await versions.allTextContents()).toEqual([
        expect.stringMatching(/^v2, .+ by \S+$/),
        expect.stringMatching(/^v1, .+ by \S+$/),
      ]);
      await page.getByLabel('Version').selectOption('1');
      await page
        .getByRole('list', { name: `Steps of ${key} v1` })
        .getByText('wait — delay (duration: 1h)')
        .waitFor(UI);

      const me = expectStatus(await api.get<{ id: string }>('/api/v1/auth/me', { token }), 200).body;
      const runId = expectStatus(
        await api.post<{ runs: { id: string }[] }>(
          `/api/v1/workflows/${key}/trigger`,
          { recipients: [{ userId: me.id }] },
          { token },
        ),
        202,
      ).body.runs[0]!.id;
      await page.getByRole('button', { name: 'Refresh runs' }).click();
      await page.getByRole('button', { name: `Open run ${runId}` }).click();
      await page.locator('.run[data-status="active"]').waitFor(UI);
      await expectAccessible(page, 'admin workflows');
      await screenshot(page, 'admin-workflows');
      await page.getByRole('button', { name: `Cancel run ${runId}` }).click();
      await page.getByText(`Run ${runId} cancelled`).waitFor(UI);
      await page.locator('.run[data-status="cancelled"]').waitFor(UI);
      const stored = expectStatus(
        await api.get<{ status: string }>(`/api/v1/workflow-runs/${runId}`, { token }),
        200,
      ).body;
      expect(stored.status).toBe('cancelled');
    });

    it('manages a topic: create, rename, a CSV import with its report, members a page at a time, a send with its numbers, delete', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      const topic = `customers-${run}`;
      await page.goto(`${stack.gatewayUrl}/#/admin/topics`);
      await page.getByRole('table', { name: 'Topics' }).waitFor(UI);
      await page.getByLabel('Topic key').fill(topic);
      await page.getByLabel('Topic name').fill('Customers');
      await page.getByRole('button', { name: 'Create topic' }).click();
      await page.getByRole('heading', { name: `Topic ${topic}: Customers` }).waitFor(UI);
      await page.getByLabel('New name').fill('Best customers');
      await page.getByRole('button', { name: 'Rename', exact: true }).click();
      await page.getByRole('heading', { name: `Topic ${topic}: Best customers` }).waitFor(UI);

      // 24 rows, and one without an email address, which the report rejects with its line
      const csv = [
        'email,externalId,name',
        ...Array.from(
          { length: 24 },
          (_, i) => `csv${i}.${run}@example.com,csv-${String(i).padStart(2, '0')}-${run},Member ${i}`,
        ),
        `,nobody-${run},Nobody`,
      ].join('\n');
      await page.getByLabel(/^CSV file/).setInputFiles({
        name: 'members.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(`${csv}\n`),
      });
      await page.getByRole('button', { name: 'Import', exact: true }).click();
      await page.getByText('Imported 25 rows: 24 created, 0 updated, 0 unchanged, 1 rejected').waitFor(UI);
      const rejected = page.getByRole('table', { name: 'Rejected rows' });
      await rejected.getByRole('cell', { name: '26', exact: true }).waitFor(UI);

      // members: the first page, then the rest on the cursor
      await page.getByRole('table', { name: `Members of ${topic} (20 shown)` }).waitFor(UI);
      await page.getByRole('button', { name: 'Load more members' }).click();
      await page.getByRole('table', { name: `Members of ${topic} (24 shown)` }).waitFor(UI);
      expect(await page.getByRole('button', { name: 'Load more members' }).isHidden()).toBe(true);
      // add and remove by external id: unknown ids are named, not added
      const memberIds = page.getByLabel('Subscriber external ids (comma or line separated)');
      await memberIds.fill(`csv-00-${run}, ghost-${run}`);
      await page.getByRole('button', { name: 'Add members' }).click();
      await page.getByText(`Added 0, already members 1; no such subscriber: ghost-${run}`).waitFor(UI);
      await memberIds.fill(`csv-23-${run}`);
      await page.getByRole('button', { name: 'Remove members' }).click();
      await page.getByText('Removed 1').waitFor(UI);
      await page.getByRole('button', { name: 'Load more members' }).click();
      await page.getByRole('table', { name: `Members of ${topic} (23 shown)` }).waitFor(UI);

      await page.getByLabel('Title').fill(`Campaign ${run}`);
      await page.getByLabel('Message').fill('Spring sale');
      await page.getByRole('button', { name: 'Send to topic' }).click();
      await page.getByText('Sending to 23 members').waitFor(UI);
      const numbers = page.locator('.topic-send');
      await waitFor(
        async () => {
          if ((await numbers.locator('[data-state="completed"]').count()) > 0) return true;
          await numbers.getByRole('button', { name: 'Refresh numbers' }).click();
          return undefined;
        },
        // each try asks the server again: not ten times a second
        { ...EVENTUALLY, intervalMs: 500, description: 'the send to the topic to complete' },
      );
      await numbers.getByText('23 of 23 members processed').waitFor(UI);
      await numbers.getByRole('cell', { name: 'in_app', exact: true }).waitFor(UI);
      // the same numbers, looked up by the send's id
      const sendId = (await numbers.getAttribute('data-topic-send')) ?? undefined;
      await page.getByLabel('Topic send id').fill(fromEarlierStep(sendId, 'the topic send id'));
      await page.getByRole('button', { name: 'Show its numbers' }).click();
      await page
        .getByRole('table', { name: `Campaign numbers of send ${sendId}` })
        .nth(1)
        .waitFor(UI);
      // the topic's sends, and every topic's recent sends, list it; a row opens its numbers
      const topicSends = page.getByRole('table', { name: `Sends to ${topic} (1 shown)` });
      await topicSends.waitFor(UI);
      const recent = page.getByRole('table', { name: /^Recent campaigns \(\d+ shown\)$/ });
      await recent.getByRole('cell', { name: topic, exact: true }).waitFor(UI);
      await page.getByRole('button', { name: `Refresh sends to ${topic}` }).click();
      await topicSends.getByRole('cell', { name: '23 of 23', exact: true }).waitFor(UI);
      await topicSends.getByRole('button', { name: `Show numbers of send ${sendId}` }).click();
      await page
        .getByRole('table', { name: `Campaign numbers of send ${sendId}` })
        .nth(2)
        .waitFor(UI);
      await expectAccessible(page, 'admin topics');
      await screenshot(page, 'admin-topics');

      await page.getByRole('button', { name: 'Delete topic' }).click();
      await page.getByText(`Topic ${topic} deleted`).waitFor(UI);
      const token = await adminApiToken();
      expect((await api.get(`/api/v1/topics/${topic}`, { token })).status).toBe(404);
    });

    it('adds an outgoing webhook endpoint (its secret shown once), reads its attempts, replays one, rotates the secret', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      const received: { id: string; body: string }[] = [];
      const receiver = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          received.push({ id: String(request.headers['webhook-id']), body });
          response.end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      try {
        const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/${run}`;
        await page.goto(`${stack.gatewayUrl}/#/admin/webhooks`);
        await page.getByRole('table', { name: 'Endpoints' }).waitFor(UI);
        await page.getByLabel('Endpoint URL').fill(hookUrl);
        await page.getByLabel('notification.delivered').uncheck();
        await page.getByLabel('notification.created').check();
        await page.getByRole('button', { name: 'Add endpoint' }).click();
        const shown = page.locator('output.secret');
        await shown.getByText(/shown once — copy it now: whsec_/).waitFor(UI);
        const firstSecret = /whsec_\S+/.exec((await shown.textContent()) ?? '')?.[0];

        const token = await adminApiToken();
        const notificationId = expectStatus(
          await api.post<{ id: string }>(
            '/api/v1/notifications',
            {
              recipient: { email: `hook.${run}@example.com` },
              channels: ['email'],
              title: 'Hooked',
              body: 'Hello',
            },
            { token },
          ),
          202,
        ).body.id;
        const first = await waitFor(
          () => received.find((hit) => hit.body.includes(notificationId) && hit.body.includes('created')),
          { ...EVENTUALLY, description: 'the notification.created event at the endpoint' },
        );

        await page.getByRole('button', { name: `Attempts ${hookUrl}` }).click();
        const log = page.getByRole('table', { name: `Attempts to ${hookUrl}` });
        await log.waitFor(UI);
        await waitFor(
          async () => {
            if ((await log.locator('[data-status="delivered"]').count()) > 0) return true;
            await page.getByRole('button', { name: 'Refresh attempts' }).click();
            return undefined;
          },
          { ...EVENTUALLY, intervalMs: 500, description: 'the attempt logged as delivered' },
        );
        await page.getByRole('button', { name: `Replay notification.created ${first.id}` }).click();
        await page.getByText(`Replayed ${first.id}`).waitFor(UI);
        // sent again with the same webhook-id, so the receiver can tell it is the same event
        await waitFor(() => received.filter((hit) => hit.id === first.id).length >= 2 || undefined, {
          ...EVENTUALLY,
          description: 'the replayed delivery at the endpoint',
        });

        await page.getByRole('button', { name: `Rotate secret ${hookUrl}` }).click();
        await shown.getByText(/New signing secret .* whsec_/).waitFor(UI);
        const secondSecret = /whsec_\S+/.exec((await shown.textContent()) ?? '')?.[0];
        expect(secondSecret).toBeDefined();
        expect(secondSecret).not.toBe(firstSecret);
        await expectAccessible(page, 'admin webhooks');
        await screenshot(page, 'admin-webhooks');

        // disabled by hand, then enabled again
        await page.getByRole('button', { name: `Disable ${hookUrl}` }).click();
        await page.getByText(`${hookUrl} disabled: no new events until enabled`).waitFor(UI);
        await page
          .locator('[data-state="disabled"]')
          .getByText(/disabled by user/)
          .waitFor(UI);
        await page.getByRole('button', { name: `Enable ${hookUrl}` }).click();
        await page.getByText(`${hookUrl} enabled`).waitFor(UI);
        await page.getByRole('button', { name: `Disable ${hookUrl}` }).waitFor(UI);

        await page.getByRole('button', { name: `Delete ${hookUrl}` }).click();
        await page.getByText(`${hookUrl} deleted`).waitFor(UI);
      } finally {
        await new Promise((resolve) => receiver.close(resolve));
      }
    });

    it('fits the new console sections on a narrow screen', async () => {
      const { page } = fromEarlierStep(admin, 'the admin page');
      await page.setViewportSize({ width: 360, height: 740 });
      try {
        for (const [section, table] of [
          ['workflows', 'Workflows'],
          ['topics', 'Topics'],
          ['webhooks', 'Endpoints'],
          ['templates', 'Templates'],
        ] as const) {
          await page.goto(`${stack.gatewayUrl}/#/admin/${section}`);
          await page.getByRole('table', { name: table }).waitFor(UI);
          expect({
            section,
            fits: await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth'),
          }).toEqual({ section, fits: true });
        }
        await screenshot(page, 'admin-narrow');
      } finally {
        await page.setViewportSize({ width: 1200, height: 900 });
      }
    });

    it('logged no console error and requested nothing from anyone but the gateway', () => {
      const recording = fromEarlierStep(admin, 'the admin page');
      expect(unexpectedErrors(recording, provoked)).toEqual([]);
      expect(recording.requests.length).toBeGreaterThan(0);
      expect(foreignRequests(recording)).toEqual([]);
    });
  });
});
