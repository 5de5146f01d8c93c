// Admin: topics (lists of subscribers, served by auth) — create, rename,
// delete, members a page at a time (the cursor API), adding and removing
// members by external id, a CSV import with its report, a send to the topic,
// and the sends (all recent ones, and each topic's) with their campaign
// numbers (the notification service's topic sends).
import { explain, del, get, patch, post, RawBody, type Page } from '../../api';
import { field, h, notice, table, when } from '../../dom';

interface Topic {
  key: string;
  name: string;
  memberCount?: number;
  updatedAt: string;
}
interface Member {
  externalId: string;
  addedAt: string;
}
interface ImportReport {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  rejectedCount: number;
  rejected: { line: number; reason: string }[];
}
interface ChannelStats {
  recipients: number;
  sent: number;
  delivered: number;
  bounced: number;
  failed: number;
  suppressed: number;
  skipped: number;
  pending: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  complained: number;
  rates: Record<string, number>;
}
interface TopicSend {
  topicSendId: string;
  topic: string;
  state: string;
  recipientCount: number;
  processedCount: number;
  notified?: number;
  createdAt: string;
  sendAt?: string;
  completedAt?: string;
  channels?: Partial<Record<'email' | 'sms' | 'in_app', ChannelStats>>;
}

/** Members shown a page at a time. */
export const MEMBERS_PAGE = 20;
/** Sends listed a page at a time. */
export const SENDS_PAGE = 10;
const topicPath = (key: string) => `/api/v1/topics/${encodeURIComponent(key)}`;
const ids = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((id) => id.trim())
    .filter(Boolean);

export function topicsPage(): HTMLElement {
  const result = notice();
  const list = h('div');
  const detail = h('div');
  const key = h('input', { name: 'key', required: true });
  const name = h('input', { name: 'name', required: true });
  const create = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Create a topic' } },
    field('Topic key', key),
    field('Topic name', name),
    h('button', { type: 'submit', className: 'primary', textContent: 'Create topic' }),
  );
  const fail = (error: unknown) => result.say(explain(error), 'error');
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    const created = key.value;
    post('/api/v1/topics', { key: created, name: name.value }).then(async () => {
      result.say(`Topic ${created} created`);
      create.reset();
      await drawList();
      open(created);
    }, fail);
  });
  const campaigns = h('div');
  const drawCampaigns = () => campaigns.replaceChildren(topicSends(undefined, result.say));
  const open = (topicKey: string) =>
    void get<Topic>(topicPath(topicKey)).then(
      (topic) =>
        detail.replaceChildren(
          topicDetail(
            topic,
            result.say,
            () => {
              detail.replaceChildren();
              void drawList().catch(fail);
            },
            () => void drawList().catch(fail),
            drawCampaigns,
          ),
        ),
      fail,
    );
  const drawList = async () => {
    const page = await get<Page<Topic>>('/api/v1/topics?limit=100');
    list.replaceChildren(
      table<Topic>(
        'Topics',
        [
          {
            label: 'Key',
            cell: (t) =>
              h('button', {
                type: 'button',
                className: 'link',
                textContent: t.key,
                attrs: { 'aria-label': `Open topic ${t.key}` },
                on: { click: () => open(t.key) },
              }),
          },
          { label: 'Name', cell: (t) => t.name },
          { label: 'Members', cell: (t) => (t.memberCount === undefined ? '—' : String(t.memberCount)) },
          { label: 'Updated', cell: (t) => when(t.updatedAt) },
        ],
        page.items,
      ),
    );
  };
  drawList().catch(fail);
  drawCampaigns();
  return h(
    'section',
    {},
    h('h2', { textContent: 'Topics' }),
    create,
    result,
    list,
    detail,
    h('h3', { textContent: 'Campaigns' }),
    campaigns,
    topicSendLookup(result.say),
  );
}

function topicDetail(
  topic: Topic,
  say: (text: string, kind?: 'ok' | 'error') => void,
  deleted: () => void,
  /** the topic's name or members changed: the list above is redrawn */
  changed: () => void,
  /** a send to the topic was accepted: the list of every topic's sends is redrawn */
  sentToTopic: () => void,
): HTMLElement {
  const path = topicPath(topic.key);
  const fail = (error: unknown) => say(explain(error), 'error');
  const heading = h('h3', { textContent: `Topic ${topic.key}: ${topic.name}` });

  const newName = h('input', { name: 'name', required: true, value: topic.name });
  const rename = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Rename the topic' } },
    field('New name', newName),
    h('button', { type: 'submit', textContent: 'Rename' }),
  );
  rename.addEventListener('submit', (event) => {
    event.preventDefault();
    patch<Topic>(path, { name: newName.value }).then((renamed) => {
      heading.textContent = `Topic ${renamed.key}: ${renamed.name}`;
      say(`Renamed to ${renamed.name}`);
      changed();
    }, fail);
  });
  const remove = h('button', {
    type: 'button',
    className: 'danger',
    textContent: 'Delete topic',
    on: {
      click: () =>
        del(path).then(() => {
          say(`Topic ${topic.key} deleted`);
          deleted();
        }, fail),
    },
  });

  // members, a page at a time
  const members: Member[] = [];
  let cursor: string | null = null;
  const memberTable = h('div');
  const more = h('button', { type: 'button', textContent: 'Load more members', hidden: true });
  const loadMembers = async (reset: boolean) => {
    if (reset) {
      members.length = 0;
      cursor = null;
    }
    const query = new URLSearchParams({ limit: String(MEMBERS_PAGE) });
    if (cursor) query.set('cursor', cursor);
    const page = await get<Page<Member>>(`${path}/members?${query}`);
    members.push(...page.items);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    if (reset) changed();
    memberTable.replaceChildren(
      table<Member>(
        `Members of ${topic.key} (${members.length} shown)`,
        [
          { label: 'External id', cell: (m) => h('code', { textContent: m.externalId }) },
          { label: 'Added', cell: (m) => when(m.addedAt) },
        ],
        members,
      ),
    );
  };
  more.addEventListener('click', () => void loadMembers(false).catch(fail));

  const memberIds = h('textarea', { rows: 2, name: 'subscriberIds' });
  const add = h('button', { type: 'submit', textContent: 'Add members' });
  const takeOut = h('button', { type: 'button', textContent: 'Remove members' });
  const membership = h(
    'form',
    { attrs: { 'aria-label': 'Add or remove members' } },
    field('Subscriber external ids (comma or line separated)', memberIds),
    h('div', { className: 'row-actions' }, add, takeOut),
  );
  membership.addEventListener('submit', (event) => {
    event.preventDefault();
    post<{ added: number; alreadyMembers: number; unknown: string[] }>(`${path}/members`, {
      subscriberIds: ids(memberIds.value),
    }).then(async (outcome) => {
      say(
        `Added ${outcome.added}, already members ${outcome.alreadyMembers}` +
          (outcome.unknown.length ? `; no such subscriber: ${outcome.unknown.join(', ')}` : ''),
      );
      await loadMembers(true);
    }, fail);
  });
  takeOut.addEventListener('click', () =>
    post<{ removed: number; notMembers: string[] }>(`${path}/members/remove`, {
      subscriberIds: ids(memberIds.value),
    }).then(async (outcome) => {
      say(
        `Removed ${outcome.removed}` +
          (outcome.notMembers.length ? `; not members: ${outcome.notMembers.join(', ')}` : ''),
      );
      await loadMembers(true);
    }, fail),
  );

  // CSV import
  const file = h('input', { type: 'file', accept: '.csv,text/csv', name: 'csv' });
  const report = h('div', { attrs: { 'aria-live': 'polite' } });
  const importer = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Import a CSV' } },
    field('CSV file (columns: email, externalId, phone, name, locale, timezone)', file),
    h('button', { type: 'submit', textContent: 'Import' }),
  );
  importer.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return say('Choose a CSV file first', 'error');
    report.replaceChildren(h('p', { textContent: 'Importing…' }));
    post<ImportReport>(`${path}/import`, new RawBody(chosen, 'text/csv')).then(
      async (done) => {
        report.replaceChildren(importReport(done));
        await loadMembers(true);
      },
      (error: unknown) => report.replaceChildren(h('p', { className: 'error', textContent: explain(error) })),
    );
  });

  const sends = h('div');
  const drawSends = () => sends.replaceChildren(topicSends(topic.key, say));
  drawSends();
  void loadMembers(true).catch(fail);
  return h(
    'div',
    { className: 'topic' },
    heading,
    h('div', { className: 'row-actions' }, rename, remove),
    h('h4', { textContent: 'Members' }),
    membership,
    memberTable,
    more,
    h('h4', { textContent: 'Import subscribers' }),
    importer,
    report,
    h('h4', { textContent: 'Send to this topic' }),
    topicSendForm(topic.key, say, () => {
      drawSends();
      sentToTopic();
    }),
    h('h4', { textContent: 'Sends to this topic' }),
    sends,
  );
}

function importReport(done: ImportReport): HTMLElement {
  return h(
    'div',
    { className: 'import-report' },
    h('p', {
      textContent: `Imported ${done.rows} rows: ${done.created} created, ${done.updated} updated, ${done.unchanged} unchanged, ${done.rejectedCount} rejected`,
    }),
    done.rejected.length
      ? table(
          'Rejected rows',
          [
            { label: 'Line', cell: (r: ImportReport['rejected'][number]) => String(r.line) },
            { label: 'Reason', cell: (r) => r.reason },
          ],
          done.rejected,
        )
      : null,
  );
}

function topicSendForm(
  topic: string,
  say: (text: string, kind?: 'ok' | 'error') => void,
  /** a send was accepted: the topic's list of sends is redrawn */
  sent: () => void,
): HTMLElement {
  const title = h('input', { name: 'title', required: true });
  const body = h('input', { name: 'body', required: true });
  const channels = ['in_app', 'email', 'sms'].map((channel) =>
    h(
      'label',
      {},
      h('input', { type: 'checkbox', value: channel, checked: channel === 'in_app' }),
      ` ${channel}`,
    ),
  );
  const stats = h('div', { attrs: { 'aria-live': 'polite' } });
  const form = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Send to the topic' } },
    field('Title', title),
    field('Message', body),
    h('fieldset', {}, h('legend', { textContent: 'Channels' }), ...channels),
    h('button', { type: 'submit', className: 'primary', textContent: 'Send to topic' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = channels.map((label) => label.querySelector('input')!).filter((box) => box.checked);
    post<TopicSend>('/api/v1/notifications', {
      recipient: { topic },
      channels: chosen.map((box) => box.value),
      title: title.value,
      body: body.value,
    }).then(
      (accepted) => {
        say(`Sending to ${accepted.recipientCount} members`);
        stats.replaceChildren(topicSendStats(accepted.topicSendId, say));
        sent();
      },
      (error: unknown) => say(explain(error), 'error'),
    );
  });
  return h('div', {}, form, stats);
}

/**
 * Sends, newest first, `SENDS_PAGE` at a time (the cursor API): every topic's,
 * or one topic's. Each row opens the send's numbers below the table.
 */
function topicSends(
  topic: string | undefined,
  say: (text: string, kind?: 'ok' | 'error') => void,
): HTMLElement {
  const loaded: TopicSend[] = [];
  let cursor: string | null = null;
  const holder = h('div');
  const shown = h('div');
  const more = h('button', { type: 'button', textContent: 'Load more sends', hidden: true });
  const caption = topic ? `Sends to ${topic}` : 'Recent campaigns';
  const load = async () => {
    const query = new URLSearchParams({ limit: String(SENDS_PAGE) });
    if (topic) query.set('topic', topic);
    if (cursor) query.set('cursor', cursor);
    const page = await get<Page<TopicSend>>(`/api/v1/topic-sends?${query}`);
    loaded.push(...page.items);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    holder.replaceChildren(
      table<TopicSend>(
        `${caption} (${loaded.length} shown)`,
        [
          { label: 'Created', cell: (send) => when(send.createdAt) },
          ...(topic ? [] : [{ label: 'Topic', cell: (send: TopicSend) => send.topic }]),
          {
            label: 'State',
            cell: (send) =>
              send.sendAt && send.state === 'scheduled' ? `scheduled for ${when(send.sendAt)}` : send.state,
          },
          { label: 'Members processed', cell: (send) => `${send.processedCount} of ${send.recipientCount}` },
          {
            label: 'Numbers',
            cell: (send) =>
              h('button', {
                type: 'button',
                className: 'link',
                textContent: 'Show numbers',
                attrs: { 'aria-label': `Show numbers of send ${send.topicSendId}` },
                on: { click: () => shown.replaceChildren(topicSendStats(send.topicSendId, say)) },
              }),
          },
        ],
        loaded,
      ),
    );
  };
  const fail = (error: unknown) => say(explain(error), 'error');
  more.addEventListener('click', () => void load().catch(fail));
  // states and counts move while a send fans out: the first page again
  const refresh = h('button', {
    type: 'button',
    textContent: 'Refresh',
    attrs: { 'aria-label': `Refresh ${caption.toLowerCase()}` },
    on: {
      click: () => {
        loaded.length = 0;
        cursor = null;
        void load().catch(fail);
      },
    },
  });
  void load().catch(fail);
  return h('div', {}, holder, h('div', { className: 'row-actions' }, more, refresh), shown);
}

/** Look a send up by its id (the API answers it with the send). */
function topicSendLookup(say: (text: string, kind?: 'ok' | 'error') => void): HTMLElement {
  const id = h('input', { name: 'topicSendId', required: true });
  const shown = h('div');
  const form = h(
    'form',
    { className: 'inline-form', attrs: { 'aria-label': 'Find a topic send' } },
    field('Topic send id', id),
    h('button', { type: 'submit', textContent: 'Show its numbers' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    shown.replaceChildren(topicSendStats(id.value.trim(), say));
  });
  return h('div', {}, h('h3', { textContent: 'Campaign numbers' }), form, shown);
}

const RATE = (value: number | undefined) => (value === undefined ? '—' : `${Math.round(value * 1000) / 10}%`);

function topicSendStats(id: string, say: (text: string, kind?: 'ok' | 'error') => void): HTMLElement {
  const holder = h('div', { className: 'topic-send', attrs: { 'data-topic-send': id } });
  const draw = async () => {
    const send = await get<TopicSend>(`/api/v1/topic-sends/${encodeURIComponent(id)}`);
    const rows = Object.entries(send.channels ?? {}) as [string, ChannelStats][];
    holder.replaceChildren(
      h('p', {
        attrs: { 'data-state': send.state },
        textContent: `Send ${send.topicSendId} to ${send.topic}: ${send.state}, ${send.processedCount} of ${send.recipientCount} members processed, ${send.notified ?? 0} notified`,
      }),
      table<[string, ChannelStats]>(
        `Campaign numbers of send ${send.topicSendId}`,
        [
          { label: 'Channel', cell: ([channel]) => channel },
          { label: 'Recipients', cell: ([, s]) => String(s.recipients) },
          { label: 'Sent', cell: ([, s]) => String(s.sent) },
          { label: 'Delivered', cell: ([, s]) => `${s.delivered} (${RATE(s.rates.delivered)})` },
          { label: 'Failed', cell: ([, s]) => String(s.failed + s.bounced) },
          { label: 'Skipped', cell: ([, s]) => String(s.skipped + s.suppressed) },
          { label: 'Pending', cell: ([, s]) => String(s.pending) },
          { label: 'Opened', cell: ([, s]) => `${s.opened} (${RATE(s.rates.opened)})` },
          { label: 'Clicked', cell: ([, s]) => `${s.clicked} (${RATE(s.rates.clicked)})` },
        ],
        rows,
      ),
      h('button', {
        type: 'button',
        textContent: 'Refresh numbers',
        on: { click: () => void draw().catch((error: unknown) => say(explain(error), 'error')) },
      }),
    );
  };
  void draw().catch((error: unknown) => say(explain(error), 'error'));
  return holder;
}
