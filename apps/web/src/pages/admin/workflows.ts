// Admin: workflows (the workflows service) — the definitions, one definition's
// versions and steps, a JSON editor that creates or saves a new version (the
// server's 400 names the step), and the definition's runs: their steps and
// history, and cancelling an active one.
import { explain, get, post, put, type Page } from '../../api';
import { field, h, notice, table, when } from '../../dom';

interface Step {
  id: string;
  type: string;
  [field: string]: unknown;
}
interface Workflow {
  key: string;
  version: number;
  name?: string;
  description?: string;
  category?: string;
  steps: Step[];
  createdBy: string;
  updatedAt: string;
}
interface VersionSummary {
  version: number;
  stepCount: number;
  createdBy: string;
  createdAt: string;
}
interface RunSummary {
  id: string;
  workflowKey: string;
  workflowVersion: number;
  recipientKey: string;
  status: string;
  transactionId?: string;
  createdAt: string;
  wakeAt?: string;
  endedAt?: string;
}
interface RunDetail extends RunSummary {
  data: Record<string, unknown>;
  waiting?: { stepId: string; until: string };
  steps: {
    stepId: string;
    type: string;
    outcome: string;
    at: string;
    notificationId?: string;
    detail?: string;
  }[];
  notifications: { stepId: string; channel: string; notificationId: string }[];
  engagement: { notificationId: string; kind: string; at: string }[];
}

const SAMPLE = {
  name: 'Invoice reminder',
  steps: [
    { id: 'inbox', type: 'channel', channel: 'in_app', template: 'invoice-due' },
    { id: 'wait', type: 'delay', duration: '1d' },
    { id: 'mail', type: 'channel', channel: 'email', template: 'invoice-due' },
  ],
};

/** A step as a sentence-like line: its id, its type, then its settings. */
function stepLine(step: Step): string {
  const { id, type, ...rest } = step;
  const settings = Object.entries(rest)
    .map(([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return `${id} — ${type}${settings ? ` (${settings})` : ''}`;
}

export function workflowsPage(): HTMLElement {
  const result = notice();
  const list = h('div');
  const detail = h('div');
  let known: Workflow[] = [];

  const key = h('input', { name: 'key', required: true, pattern: '[A-Za-z0-9_.:\\-]+' });
  const source = h('textarea', {
    rows: 14,
    spellcheck: false,
    className: 'code',
    value: JSON.stringify(SAMPLE, null, 2),
  });
  const editor = h(
    'form',
    { attrs: { 'aria-label': 'Create or edit a workflow' } },
    h('h3', { textContent: 'Create or edit' }),
    field('Workflow key', key),
    field('Definition (JSON)', source),
    h('button', { type: 'submit', className: 'primary', textContent: 'Save workflow' }),
  );
  editor.addEventListener('submit', (event) => {
    event.preventDefault();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(source.value) as Record<string, unknown>;
    } catch {
      result.say('The definition is not valid JSON', 'error');
      return;
    }
    const { key: _ignored, version: _v, createdBy: _c, createdAt: _a, updatedAt: _u, ...definition } = body;
    const exists = known.some((workflow) => workflow.key === key.value);
    const saved = exists
      ? put<Workflow>(`/api/v1/workflows/${encodeURIComponent(key.value)}`, definition)
      : post<Workflow>('/api/v1/workflows', { key: key.value, ...definition });
    saved.then(
      async (workflow) => {
        result.say(`Saved ${workflow.key} version ${workflow.version}`);
        await drawList();
        await open(workflow.key);
      },
      (error: unknown) => result.say(explain(error), 'error'),
    );
  });

  const edit = (workflow: Workflow) => {
    key.value = workflow.key;
    const { key: _k, version: _v, createdBy: _c, updatedAt: _u, ...definition } = workflow;
    delete (definition as Record<string, unknown>).createdAt;
    source.value = JSON.stringify(definition, null, 2);
    source.focus();
  };

  const open = async (workflowKey: string) => {
    const current = await get<Workflow>(`/api/v1/workflows/${encodeURIComponent(workflowKey)}`);
    detail.replaceChildren(workflowDetail(current, edit, result.say));
  };

  const drawList = async () => {
    known = (await get<{ items: Workflow[] }>('/api/v1/workflows')).items;
    list.replaceChildren(
      table<Workflow>(
        'Workflows',
        [
          {
            label: 'Key',
            cell: (w) =>
              h('button', {
                type: 'button',
                className: 'link',
                textContent: w.key,
                attrs: { 'aria-label': `Open workflow ${w.key}` },
                on: { click: () => void open(w.key).catch((e: unknown) => result.say(explain(e), 'error')) },
              }),
          },
          { label: 'Name', cell: (w) => w.name ?? '' },
          { label: 'Version', cell: (w) => `v${w.version}` },
          { label: 'Steps', cell: (w) => String(w.steps.length) },
          { label: 'Updated', cell: (w) => when(w.updatedAt) },
        ],
        known,
      ),
    );
  };
  drawList().catch((error: unknown) => result.say(explain(error), 'error'));
  return h('section', {}, h('h2', { textContent: 'Workflows' }), result, list, detail, editor);
}

function workflowDetail(
  current: Workflow,
  edit: (workflow: Workflow) => void,
  say: (text: string, kind?: 'ok' | 'error') => void,
): HTMLElement {
  const path = `/api/v1/workflows/${encodeURIComponent(current.key)}`;
  // the current version at once; the others (who saved each, when) as the list arrives
  const version = h(
    'select',
    {},
    h('option', { value: String(current.version), textContent: `v${current.version}` }),
  );
  void get<Page<VersionSummary>>(`${path}/versions?limit=100`).then(
    (page) =>
      version.replaceChildren(
        ...page.items.map((v) =>
          h('option', {
            value: String(v.version),
            textContent: `v${v.version}, ${when(v.createdAt)} by ${v.createdBy}`,
            selected: v.version === current.version,
          }),
        ),
      ),
    (e: unknown) => say(explain(e), 'error'),
  );
  const shown = h('div');
  const runs = h('div');
  const run = h('div');
  const draw = (workflow: Workflow) =>
    shown.replaceChildren(
      h('p', { className: 'hint', textContent: `Version ${workflow.version}, by ${workflow.createdBy}` }),
      h(
        'ol',
        { className: 'steps', attrs: { 'aria-label': `Steps of ${workflow.key} v${workflow.version}` } },
        ...workflow.steps.map((step) => h('li', { textContent: stepLine(step) })),
      ),
      h(
        'details',
        {},
        h('summary', { textContent: 'As JSON' }),
        h('pre', { className: 'code', textContent: JSON.stringify(workflow.steps, null, 2) }),
      ),
      h('button', {
        type: 'button',
        textContent: 'Edit in the editor',
        on: { click: () => edit(workflow) },
      }),
    );
  version.addEventListener('change', () =>
    get<Workflow>(`${path}/versions/${version.value}`).then(draw, (e: unknown) => say(explain(e), 'error')),
  );
  draw(current);

  let cursor: string | null = null;
  const rows: RunSummary[] = [];
  const more = h('button', { type: 'button', textContent: 'Load more runs', hidden: true });
  const drawRuns = () =>
    runs.replaceChildren(
      table<RunSummary>(
        `Runs of ${current.key}`,
        [
          {
            label: 'Run',
            cell: (r) =>
              h('button', {
                type: 'button',
                className: 'link',
                textContent: r.id,
                attrs: { 'aria-label': `Open run ${r.id}` },
                on: { click: () => void openRun(r.id) },
              }),
          },
          { label: 'Recipient', cell: (r) => r.recipientKey },
          { label: 'Status', cell: (r) => h('span', { className: 'state', textContent: r.status }) },
          { label: 'Version', cell: (r) => `v${r.workflowVersion}` },
          { label: 'Started', cell: (r) => when(r.createdAt) },
        ],
        rows,
      ),
      more,
    );
  const loadRuns = async (reset: boolean) => {
    if (reset) {
      rows.length = 0;
      cursor = null;
    }
    const query = new URLSearchParams({ workflow: current.key, limit: '20' });
    if (cursor) query.set('cursor', cursor);
    const page = await get<Page<RunSummary>>(`/api/v1/workflow-runs?${query}`);
    rows.push(...page.items);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    drawRuns();
  };
  more.addEventListener('click', () => void loadRuns(false).catch((e: unknown) => say(explain(e), 'error')));

  const openRun = async (id: string) => {
    try {
      const detail = await get<RunDetail>(`/api/v1/workflow-runs/${encodeURIComponent(id)}`);
      run.replaceChildren(runDetail(detail, () => void openRun(id).then(() => loadRuns(true)), say));
    } catch (error) {
      say(explain(error), 'error');
    }
  };
  void loadRuns(true).catch((e: unknown) => say(explain(e), 'error'));

  return h(
    'div',
    { className: 'workflow' },
    h('h3', { textContent: `Workflow ${current.key}` }),
    field('Version', version),
    shown,
    h('h3', { textContent: 'Runs' }),
    h('button', {
      type: 'button',
      textContent: 'Refresh runs',
      on: { click: () => void loadRuns(true).catch((e: unknown) => say(explain(e), 'error')) },
    }),
    runs,
    run,
  );
}

function runDetail(
  detail: RunDetail,
  changed: () => void,
  say: (text: string, kind?: 'ok' | 'error') => void,
): HTMLElement {
  const cancel =
    detail.status === 'active'
      ? h('button', {
          type: 'button',
          className: 'danger',
          textContent: 'Cancel run',
          attrs: { 'aria-label': `Cancel run ${detail.id}` },
          on: {
            click: () =>
              post(`/api/v1/workflow-runs/${encodeURIComponent(detail.id)}/cancel`).then(
                () => (say(`Run ${detail.id} cancelled`), changed()),
                (error: unknown) => say(explain(error), 'error'),
              ),
          },
        })
      : null;
  return h(
    'div',
    { className: 'run', attrs: { 'data-status': detail.status } },
    h('h4', { textContent: `Run ${detail.id}` }),
    h(
      'p',
      {},
      `${detail.recipientKey} · status `,
      h('strong', { textContent: detail.status }),
      detail.waiting ? ` · waiting at ${detail.waiting.stepId} until ${when(detail.waiting.until)}` : '',
      detail.endedAt ? ` · ended ${when(detail.endedAt)}` : '',
    ),
    cancel,
    table(
      `History of run ${detail.id}`,
      [
        { label: 'Step', cell: (s: RunDetail['steps'][number]) => s.stepId },
        { label: 'Type', cell: (s) => s.type },
        { label: 'Outcome', cell: (s) => s.outcome },
        { label: 'When', cell: (s) => when(s.at) },
        {
          label: 'Notification or detail',
          cell: (s) =>
            s.notificationId
              ? h('a', { href: `#/notifications/${s.notificationId}`, textContent: 'Timeline' })
              : (s.detail ?? ''),
        },
      ],
      detail.steps,
    ),
    detail.engagement.length
      ? h(
          'p',
          { className: 'hint' },
          `Engagement: ${detail.engagement.map((e) => `${e.kind} ${when(e.at)}`).join(', ')}`,
        )
      : null,
  );
}
