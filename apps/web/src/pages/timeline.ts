// A notification's delivery, per channel, as its status history tells it
// (queued → sent → delivered, or failed with the reason), redrawn whenever the
// socket reports a change to it.
import { get } from '../api';
import { h, notice, when } from '../dom';
import { liveSocket } from '../live';

type Channel = 'in_app' | 'email' | 'sms';
interface HistoryEntry {
  channel: Channel;
  status: string;
  at: string;
  source: string;
  detail: {
    attempt?: number;
    provider?: string;
    errorCode?: string;
    reason?: string;
    nextAttemptAt?: string;
  };
}
interface Detail {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  channels: Channel[];
  deliveries: Partial<
    Record<Channel, { status: string; reason?: string; errorCode?: string; updatedAt: string }>
  >;
  history: HistoryEntry[];
}

const CHANNEL_NAMES: Record<Channel, string> = { in_app: 'In-app', email: 'Email', sms: 'SMS' };
const FAILED = new Set(['failed', 'dead', 'bounced', 'suppressed', 'skipped']);

function channelTimeline(detail: Detail, channel: Channel): HTMLElement {
  const current = detail.deliveries[channel];
  const steps = detail.history.filter((entry) => entry.channel === channel);
  return h(
    'section',
    {
      className: 'channel',
      attrs: { 'aria-label': `${CHANNEL_NAMES[channel]} delivery`, 'data-channel': channel },
    },
    h(
      'h2',
      {},
      CHANNEL_NAMES[channel],
      ' ',
      h('span', {
        className: `pill ${FAILED.has(current?.status ?? '') ? 'bad' : current?.status === 'delivered' ? 'good' : ''}`,
        textContent: current?.status ?? 'unknown',
        attrs: { 'data-status': current?.status ?? '' },
      }),
    ),
    h(
      'ol',
      { className: 'timeline' },
      ...steps.map((step) =>
        h(
          'li',
          { className: FAILED.has(step.status) ? 'bad' : step.status === 'delivered' ? 'good' : '' },
          h('strong', { textContent: step.status }),
          ' ',
          h('time', { textContent: when(step.at), attrs: { datetime: step.at } }),
          step.detail.provider ? ` · ${step.detail.provider}` : '',
          step.detail.attempt ? ` · attempt ${step.detail.attempt}` : '',
          step.detail.reason || step.detail.errorCode
            ? h('div', {
                className: 'reason',
                textContent: `Reason: ${step.detail.reason ?? step.detail.errorCode}`,
              })
            : null,
        ),
      ),
    ),
  );
}

export function timelinePage(id: string): HTMLElement {
  const result = notice();
  const body = h('div', { className: 'channels' });
  const heading = h('h1', { textContent: 'Notification' });
  const summary = h('p', { className: 'hint' });
  const page = h(
    'section',
    { className: 'card' },
    h('p', {}, h('a', { href: '#/inbox', textContent: '← Inbox' })),
    heading,
    summary,
    result,
    body,
  );

  const draw = async () => {
    try {
      const detail = await get<Detail>(`/api/v1/notifications/${encodeURIComponent(id)}`);
      heading.textContent = detail.title || 'Notification';
      summary.textContent = `${detail.body} — created ${when(detail.createdAt)}`;
      body.replaceChildren(...detail.channels.map((channel) => channelTimeline(detail, channel)));
    } catch (error) {
      result.say(`Could not load this notification: ${(error as Error).message}`, 'error');
    }
  };
  void draw();
  const socket = liveSocket();
  const onUpdate = (payload: { notificationId: string }) => {
    if (payload.notificationId === id) void draw();
  };
  socket.on('notification:updated', onUpdate);
  // after a reconnect something may have changed unseen
  socket.on('connect', draw);
  (page as HTMLElement & { dispose?: () => void }).dispose = () => {
    socket.off('notification:updated', onUpdate);
    socket.off('connect', draw);
  };
  return page;
}
