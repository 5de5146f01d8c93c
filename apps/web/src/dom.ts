// The one DOM helper the app needs instead of a framework: build an element
// with properties, attributes and children. Text always goes in as text.
type Child = Node | string | null | undefined | false;
type Props = Record<string, unknown> & {
  attrs?: Record<string, string>;
  on?: Record<string, (event: Event) => void>;
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const { attrs, on, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  for (const [name, handler] of Object.entries(on ?? {})) node.addEventListener(name, handler);
  node.append(...children.filter((child): child is Node | string => Boolean(child)));
  return node;
}

/** A labelled form field: the label names the input for screen readers and for tests. */
export function field(
  label: string,
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
): HTMLElement {
  input.id ||= `f-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Math.random().toString(36).slice(2, 7)}`;
  return h('div', { className: 'field' }, h('label', { htmlFor: input.id, textContent: label }), input);
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
}

export function table<T>(caption: string, columns: Column<T>[], rows: T[]): HTMLElement {
  return h(
    'div',
    { className: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { textContent: caption }),
      h(
        'thead',
        {},
        h('tr', {}, ...columns.map((column) => h('th', { scope: 'col', textContent: column.label }))),
      ),
      h(
        'tbody',
        {},
        ...(rows.length === 0
          ? [h('tr', {}, h('td', { colSpan: columns.length, textContent: 'Nothing here yet' }))]
          : rows.map((row) => h('tr', {}, ...columns.map((column) => h('td', {}, column.cell(row)))))),
      ),
    ),
  );
}

/** A polite live region for the result of an action. */
export function notice(): HTMLParagraphElement & { say(text: string, kind?: 'ok' | 'error'): void } {
  const line = h('p', { className: 'notice', attrs: { role: 'status', 'aria-live': 'polite' } });
  return Object.assign(line, {
    say(text: string, kind: 'ok' | 'error' = 'ok') {
      line.textContent = text;
      line.dataset.kind = kind;
    },
  });
}

export const when = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');
