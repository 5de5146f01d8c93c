// Admin: outgoing event webhooks (the notification service) — endpoints with
// their URL and event types, the signing secret shown once at creation and at
// each rotation, enabling an endpoint the server disabled after sustained
// failure, deleting one, and an endpoint's attempts log with replay.
// The API has no manual disable: the server disables an endpoint itself.
import { explain, del, get, post, type Page } from '../../api';
import { field, h, notice, table, when } from '../../dom';

interface Endpoint {
  id: string;
  url: string;
  description?: string;
  eventTypes: string[];
  disabled: boolean;
  disabledReason?: string;
  consecutiveFailures: number;
  createdAt: string;
}
interface Delivery {
  id: string;
  eventType: string;
  notificationId: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt?: string;
  deliveredAt?: string;
  createdAt: string;
  log: { at: string; statusCode?: number; latencyMs: number; responseExcerpt?: string; error?: string }[];
}

/** The event types an endpoint may subscribe to (the contract's EventWebhookTypes). */
const EVENT_TYPES = [
  'notification.created',
  'notification.sent',
  'notification.delivered',
  'notification.failed',
  'notification.bounced',
  'notification.read',
  'notification.opened',
  'notification.clicked',
  'notification.complained',
  'notification.unsubscribed',
  'workflow.run.started',
  'workflow.run.completed',
  'workflow.run.cancelled',
  'workflow.run.failed',
];
const BASE = '/api/v1/event-webhooks';

export function webhooksPage(): HTMLElement {
  const result = notice();
  const list = h('div');
  const attempts = h('div');
  const secret = h('output', { className: 'secret', attrs: { 'aria-live': 'polite' } });
  const fail = (error: unknown) => result.say(explain(error), 'error');

  const url = h('input', { name: 'url', type: 'url', required: true, placeholder: 'https://' });
  const description = h('input', { name: 'description' });
  const types = EVENT_TYPES.map((type) =>
    h(
      'label',
      {},
      h('input', { type: 'checkbox', value: type, checked: type === 'notification.delivered' }),
      ` ${type}`,
    ),
  );
  const form = h(
    'form',
    { attrs: { 'aria-label': 'Add an endpoint' } },
    field('Endpoint URL', url),
    field('Description', description),
    h('fieldset', { className: 'event-types' }, h('legend', { textContent: 'Event types' }), ...types),
    h('button', { type: 'submit', className: 'primary', textContent: 'Add endpoint' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const eventTypes = types
      .map((label) => label.querySelector('input')!)
      .filter((box) => box.checked)
      .map((box) => box.value);
    post<Endpoint & { secret: string }>(BASE, {
      url: url.value,
      eventTypes,
      ...(description.value ? { description: description.value } : {}),
    }).then(async (created) => {
      secret.textContent = `Signing secret of ${created.url}, shown once — copy it now: ${created.secret}`;
      form.reset();
      await draw();
    }, fail);
  });

  const action = (label: string, name: string, run: () => Promise<unknown>) =>
    h('button', {
      type: 'button',
      textContent: label,
      attrs: { 'aria-label': `${label} ${name}` },
      on: { click: () => void run().catch(fail) },
    });

  const draw = async () => {
    const page = await get<Page<Endpoint>>(`${BASE}?limit=100`);
    list.replaceChildren(
      table<Endpoint>(
        'Endpoints',
        [
          { label: 'URL', cell: (e) => h('code', { textContent: e.url }) },
          { label: 'Events', cell: (e) => e.eventTypes.join(', ') },
          {
            label: 'State',
            cell: (e) =>
              h('span', {
                className: e.disabled ? 'pill bad' : 'pill good',
                attrs: { 'data-state': e.disabled ? 'disabled' : 'enabled' },
                textContent: e.disabled
                  ? `disabled${e.disabledReason ? `: ${e.disabledReason}` : ''}`
                  : e.consecutiveFailures
                    ? `enabled, ${e.consecutiveFailures} failures in a row`
                    : 'enabled',
              }),
          },
          {
            label: 'Actions',
            cell: (e) =>
              h(
                'div',
                { className: 'row-actions' },
                action('Attempts', e.url, async () => attempts.replaceChildren(attemptsLog(e, result.say))),
                action('Rotate secret', e.url, async () => {
                  const rotated = await post<{ secret: string; previousSecretExpiresAt: string | null }>(
                    `${BASE}/${e.id}/rotate-secret`,
                  );
                  secret.textContent = `New signing secret of ${e.url}, shown once — copy it now: ${rotated.secret}${
                    rotated.previousSecretExpiresAt
                      ? ` (the old one also signs until ${when(rotated.previousSecretExpiresAt)})`
                      : ''
                  }`;
                }),
                e.disabled
                  ? action('Enable', e.url, async () => {
                      await post(`${BASE}/${e.id}/enable`);
                      result.say(`${e.url} enabled`);
                      await draw();
                    })
                  : action('Disable', e.url, async () => {
                      await post(`${BASE}/${e.id}/disable`);
                      result.say(`${e.url} disabled: no new events until enabled`);
                      await draw();
                    }),
                action('Delete', e.url, async () => {
                  await del(`${BASE}/${e.id}`);
                  result.say(`${e.url} deleted`);
                  attempts.replaceChildren();
                  await draw();
                }),
              ),
          },
          { label: 'Added', cell: (e) => when(e.createdAt) },
        ],
        page.items,
      ),
    );
  };
  draw().catch(fail);
  return h(
    'section',
    {},
    h('h2', { textContent: 'Outgoing webhooks' }),
    h('p', {
      className: 'hint',
      textContent:
        'Herald signs each event it posts (Standard Webhooks). An endpoint that keeps failing is disabled by the server; enable it here once it is fixed, or disable one yourself while its receiver is down for work.',
    }),
    form,
    secret,
    result,
    list,
    attempts,
  );
}

function attemptsLog(endpoint: Endpoint, say: (text: string, kind?: 'ok' | 'error') => void): HTMLElement {
  const holder = h('div');
  const path = `${BASE}/${endpoint.id}/deliveries`;
  const rows: Delivery[] = [];
  let cursor: string | null = null;
  const more = h('button', { type: 'button', textContent: 'Load older attempts', hidden: true });
  const last = (d: Delivery) => {
    const attempt = d.log.at(-1);
    if (!attempt) return '—';
    return `${attempt.statusCode ?? attempt.error ?? '—'} in ${attempt.latencyMs} ms, ${when(attempt.at)}`;
  };
  const redraw = () =>
    holder.replaceChildren(
      table<Delivery>(
        `Attempts to ${endpoint.url}`,
        [
          { label: 'Event', cell: (d) => d.eventType },
          {
            label: 'Status',
            cell: (d) =>
              h('span', {
                className:
                  d.status === 'delivered' ? 'pill good' : d.status === 'failed' ? 'pill bad' : 'pill',
                attrs: { 'data-status': d.status },
                textContent: d.status,
              }),
          },
          { label: 'Attempts', cell: (d) => String(d.attempts) },
          { label: 'Last attempt', cell: last },
          { label: 'Notification', cell: (d) => h('code', { textContent: d.notificationId }) },
          {
            label: 'Replay',
            cell: (d) =>
              h('button', {
                type: 'button',
                textContent: 'Replay',
                attrs: { 'aria-label': `Replay ${d.eventType} ${d.id}` },
                on: {
                  click: () =>
                    post(`${path}/${encodeURIComponent(d.id)}/replay`).then(
                      () => (say(`Replayed ${d.id}`), load(true)),
                      (error: unknown) => say(explain(error), 'error'),
                    ),
                },
              }),
          },
        ],
        rows,
      ),
      more,
      h('button', { type: 'button', textContent: 'Refresh attempts', on: { click: () => void load(true) } }),
    );
  const load = async (reset: boolean) => {
    if (reset) {
      rows.length = 0;
      cursor = null;
    }
    const query = new URLSearchParams({ limit: '20' });
    if (cursor) query.set('cursor', cursor);
    try {
      const page = await get<Page<Delivery>>(`${path}?${query}`);
      rows.push(...page.items);
      cursor = page.nextCursor;
      more.hidden = !cursor;
      redraw();
    } catch (error) {
      say(explain(error), 'error');
    }
  };
  more.addEventListener('click', () => void load(false));
  void load(true);
  return holder;
}
