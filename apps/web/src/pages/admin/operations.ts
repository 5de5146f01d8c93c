// Admin: categories, dead letters (replay, discard) and delivery charts.
import {
  Chart,
  BarController,
  BarElement,
  CategoryScale,
  Legend,
  LinearScale,
  Tooltip,
  Title,
} from 'chart.js';
import { del, get, post, type Page } from '../../api';
import { field, h, notice, table, when } from '../../dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, Title);

interface Category {
  key: string;
  name: string;
  description?: string;
  defaultChannels: string[];
  critical: boolean;
}
interface DeadLetter {
  id: string;
  state: 'pending' | 'replaying' | 'replayed';
  reason: string;
  errorCode: string | null;
  lastError: string | null;
  attempts: number;
  notificationId: string | null;
  channel: string | null;
  deadLetteredAt: string;
}

export function categoriesPage(): HTMLElement {
  const result = notice();
  const holder = h('div');
  const draw = async () => {
    const list = await get<{ items: Category[] }>('/api/v1/categories');
    holder.replaceChildren(
      table<Category>(
        'Categories',
        [
          { label: 'Key', cell: (c) => h('code', { textContent: c.key }) },
          { label: 'Name', cell: (c) => c.name },
          { label: 'Default channels', cell: (c) => c.defaultChannels.join(', ') || 'all' },
          { label: 'Critical', cell: (c) => (c.critical ? 'yes (ignores preferences)' : 'no') },
        ],
        list.items,
      ),
    );
  };
  const key = h('input', { name: 'key', required: true, pattern: '[A-Za-z0-9_.:\\-]+' });
  const name = h('input', { name: 'name', required: true });
  const critical = h('input', { type: 'checkbox', name: 'critical' });
  const form = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Create a category' } },
    field('Key', key),
    field('Name', name),
    h('label', {}, critical, ' Critical'),
    h('button', { type: 'submit', className: 'primary', textContent: 'Create category' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    post('/api/v1/categories', { key: key.value, name: name.value, critical: critical.checked }).then(
      () => (result.say('Category created'), form.reset(), draw()),
      (error: Error) => result.say(error.message, 'error'),
    );
  });
  draw().catch((error: Error) => result.say(error.message, 'error'));
  return h('section', {}, h('h2', { textContent: 'Categories' }), form, result, holder);
}

export function deadLettersPage(): HTMLElement {
  const result = notice();
  const holder = h('div');
  const act = (letter: DeadLetter, action: 'replay' | 'discard') =>
    (action === 'replay'
      ? post(`/api/v1/admin/dead-letters/${letter.id}/replay`)
      : del(`/api/v1/admin/dead-letters/${letter.id}`)
    ).then(
      () => (
        result.say(action === 'replay' ? 'Replayed: the message is back in its queue' : 'Discarded'),
        draw()
      ),
      (error: Error) => result.say(error.message, 'error'),
    );
  const draw = async () => {
    const page = await get<Page<DeadLetter>>('/api/v1/admin/dead-letters?limit=100');
    holder.replaceChildren(
      table<DeadLetter>(
        'Dead letters',
        [
          { label: 'When', cell: (letter) => when(letter.deadLetteredAt) },
          { label: 'Channel', cell: (letter) => letter.channel ?? '—' },
          {
            label: 'Reason',
            cell: (letter) => `${letter.reason}${letter.lastError ? `: ${letter.lastError}` : ''}`,
          },
          { label: 'Attempts', cell: (letter) => String(letter.attempts) },
          {
            label: 'State',
            cell: (letter) =>
              h('span', {
                className: 'pill',
                textContent: letter.state,
                attrs: { 'data-state': letter.state },
              }),
          },
          {
            label: 'Notification',
            cell: (letter) =>
              letter.notificationId
                ? h('a', {
                    href: `#/notifications/${encodeURIComponent(letter.notificationId)}`,
                    textContent: 'Timeline',
                  })
                : '—',
          },
          {
            label: 'Actions',
            cell: (letter) =>
              letter.state === 'pending'
                ? h(
                    'span',
                    { className: 'row-actions' },
                    h('button', {
                      type: 'button',
                      textContent: 'Replay',
                      attrs: { 'aria-label': `Replay dead letter ${letter.id}` },
                      on: { click: () => act(letter, 'replay') },
                    }),
                    h('button', {
                      type: 'button',
                      textContent: 'Discard',
                      attrs: { 'aria-label': `Discard dead letter ${letter.id}` },
                      on: { click: () => act(letter, 'discard') },
                    }),
                  )
                : '',
          },
        ],
        page.items,
      ),
    );
  };
  draw().catch((error: Error) => result.say(error.message, 'error'));
  return h(
    'section',
    {},
    h('h2', { textContent: 'Dead letters' }),
    h('p', {
      className: 'hint',
      textContent:
        'Messages that failed for good. Replay sends one back to its queue once the cause is fixed.',
    }),
    result,
    holder,
  );
}

interface Suppression {
  address: string;
  channel: 'email' | 'sms';
  reason: string;
  provider: string;
  createdAt: string;
}

/** Addresses a provider reported as bounced, complained or unsubscribed: no send reaches them until lifted. */
export function suppressionsPage(): HTMLElement {
  const result = notice();
  const holder = h('div');
  const draw = async () => {
    const page = await get<Page<Suppression>>('/api/v1/admin/suppressions?limit=100');
    holder.replaceChildren(
      table<Suppression>(
        'Suppressed addresses',
        [
          { label: 'Address', cell: (entry) => entry.address },
          { label: 'Channel', cell: (entry) => entry.channel },
          { label: 'Reason', cell: (entry) => `${entry.reason} (${entry.provider})` },
          { label: 'Since', cell: (entry) => when(entry.createdAt) },
          {
            label: 'Lift',
            cell: (entry) =>
              h('button', {
                type: 'button',
                textContent: 'Allow again',
                attrs: { 'aria-label': `Allow sending to ${entry.address} again` },
                on: {
                  click: () =>
                    del(`/api/v1/admin/suppressions/${encodeURIComponent(entry.address)}`).then(
                      () => (result.say(`${entry.address} may receive again`), draw()),
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
  draw().catch((error: Error) => result.say(error.message, 'error'));
  return h('section', {}, h('h2', { textContent: 'Suppressions' }), result, holder);
}

interface Stats {
  counts: { total: number; sent: number; delivered: number; failed: number; opened: number; clicked: number };
}
const SERIES = [
  { key: 'sent', label: 'Sent', color: '#1d4ed8' },
  { key: 'delivered', label: 'Delivered', color: '#15803d' },
  { key: 'failed', label: 'Failed', color: '#b91c1c' },
  { key: 'opened', label: 'Opened', color: '#a16207' },
  { key: 'clicked', label: 'Clicked', color: '#7e22ce' },
] as const;

/**
 * Delivery over the last days, one bar group per day: each day is one call to
 * GET /api/v1/admin/stats (an indexed aggregation over a period), so the chart
 * needs no endpoint of its own.
 */
export function chartsPage(now: () => Date = () => new Date()): HTMLElement {
  const result = notice();
  const channel = h(
    'select',
    {},
    h('option', { value: 'email', textContent: 'Email' }),
    h('option', { value: 'sms', textContent: 'SMS' }),
  );
  const days = h(
    'select',
    {},
    ...[7, 14, 30].map((n) => h('option', { value: String(n), textContent: `Last ${n} days` })),
  );
  const canvas = h('canvas', { attrs: { role: 'img', 'aria-label': 'Delivery per day' } });
  const summary = h('div', { className: 'table-holder' });
  let chart: Chart | undefined;
  const draw = async () => {
    const count = Number(days.value);
    const end = new Date(now());
    end.setUTCHours(24, 0, 0, 0);
    const periods = Array.from({ length: count }, (_, i) => {
      const from = new Date(end.getTime() - (count - i) * 86_400_000);
      return { from, to: new Date(from.getTime() + 86_400_000) };
    });
    const stats = await Promise.all(
      periods.map(({ from, to }) =>
        get<Stats>(
          `/api/v1/admin/stats?${new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), channel: channel.value })}`,
        ),
      ),
    );
    const labels = periods.map(({ from }) => from.toISOString().slice(5, 10));
    chart?.destroy();
    chart = new Chart(canvas, {
      type: 'bar',
      data: {
        labels,
        datasets: SERIES.map((series) => ({
          label: series.label,
          data: stats.map((day) => day.counts[series.key]),
          backgroundColor: series.color,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: {
          title: {
            display: true,
            text: `${channel.value === 'email' ? 'Email' : 'SMS'} notifications per day (UTC)`,
          },
        },
      },
    });
    const totals = SERIES.map((series) => ({
      label: series.label,
      value: stats.reduce((sum, day) => sum + day.counts[series.key], 0),
    }));
    summary.replaceChildren(
      table(
        'Totals for the period',
        [
          { label: 'Measure', cell: (row: { label: string; value: number }) => row.label },
          { label: 'Notifications', cell: (row) => String(row.value) },
        ],
        totals,
      ),
    );
    canvas.setAttribute(
      'aria-label',
      `Delivery per day: ${totals.map((t) => `${t.label} ${t.value}`).join(', ')}`,
    );
  };
  const redraw = () => draw().catch((error: Error) => result.say(error.message, 'error'));
  channel.addEventListener('change', redraw);
  days.addEventListener('change', redraw);
  redraw();
  const section = h(
    'section',
    {},
    h('h2', { textContent: 'Delivery' }),
    h('div', { className: 'inline-form' }, field('Channel', channel), field('Period', days)),
    result,
    h('div', { className: 'chart' }, canvas),
    summary,
  );
  (section as HTMLElement & { dispose?: () => void }).dispose = () => chart?.destroy();
  return section;
}
