// <herald-inbox gateway="https://herald.example" token="…">: a recipient's
// notification inbox for any page, with no framework on the host side.
//
// The list comes from the cursor API (infinite scroll), new items and changes
// come live over socket.io; a reconnect sends the newest createdAt seen as
// `since`, and items are kept by id, so a replayed or twice-pushed
// notification shows once. The token is an inbox token (a subscriber) or a
// user's access token; set the attribute again to hand it a fresh one.
import { io, type Socket } from 'socket.io-client';
import { InboxApi, type Channel, type InboxItem, type Preferences } from './api';
import { STYLES } from './styles';

const CHANNELS: { key: Channel; label: string }[] = [
  { key: 'in_app', label: 'In the app' },
  { key: 'email', label: 'Email' },
  { key: 'sms', label: 'SMS' },
];
const BELL =
  '<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2"><path d="M18 8a6 6 0 1 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/><path d="M13.73 21a2 2 0 0 1-3.46 0"/></svg>';

interface NotificationNew {
  notification: InboxItem;
  catchUp?: boolean;
}
interface NotificationUpdated {
  notificationId: string;
  change: { kind: string; read?: boolean; archived?: boolean };
  unreadCount?: number;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & Record<string, unknown> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

export class HeraldInbox extends HTMLElement {
  static observedAttributes = ['gateway', 'token', 'open'];

  private readonly root: ShadowRoot;
  private readonly bell: HTMLButtonElement;
  private readonly badge: HTMLSpanElement;
  private readonly panel: HTMLDivElement;
  private readonly list: HTMLUListElement;
  private readonly statusLine: HTMLParagraphElement;
  private readonly scroller: HTMLDivElement;
  private readonly sentinel: HTMLDivElement;
  private readonly preferencesButton: HTMLButtonElement;
  private readonly observer: IntersectionObserver;
  /** notification id → its row: dedupes live, replayed and paged items */
  private readonly rows = new Map<string, HTMLLIElement>();
  private readonly items = new Map<string, InboxItem>();
  private api: InboxApi | undefined;
  private socket: Socket | undefined;
  private nextCursor: string | null = null;
  private loadingPage = false;
  private newestSeen: string | undefined;
  private unread = 0;
  /**
   * Counts asked for and changes made, in order: a count the API answers is shown only if
   * nothing newer was asked for or shown meanwhile (answers can come back out of order).
   */
  private unreadSeq = 0;
  /** the place in that order of the count shown */
  private unreadShown = 0;
  /** a refresh of the count after new notifications: one at a time, one more if more came meanwhile */
  private recounting = false;
  private recountAgain = false;
  private generation = 0;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.badge = element('span', { className: 'badge', hidden: true });
    this.bell = element('button', { className: 'bell', type: 'button' });
    this.bell.innerHTML = BELL;
    this.bell.append(this.badge);
    this.bell.setAttribute('aria-haspopup', 'true');
    this.bell.addEventListener('click', () => this.toggleAttribute('open'));

    this.statusLine = element('p', { className: 'status' });
    this.statusLine.setAttribute('role', 'status');
    const readAll = element('button', { type: 'button', className: 'link', textContent: 'Mark all read' });
    readAll.addEventListener('click', () => void this.markAllRead());
    this.preferencesButton = element('button', {
      type: 'button',
      className: 'link',
      textContent: 'Preferences',
    });
    this.preferencesButton.setAttribute('aria-expanded', 'false');
    this.preferencesButton.addEventListener('click', () => void this.togglePreferences());
    const heading = element('h2', { id: 'herald-inbox-heading', textContent: 'Notifications' });
    this.list = element('ul');
    this.list.setAttribute('aria-labelledby', 'herald-inbox-heading');
    this.sentinel = element('div', { className: 'sentinel' });
    this.scroller = element('div', { className: 'scroll' }, this.list, this.sentinel);
    this.panel = element(
      'div',
      { className: 'panel', id: 'herald-inbox-panel', hidden: true },
      element('header', {}, heading, readAll, this.preferencesButton),
      this.statusLine,
      this.scroller,
    );
    this.panel.setAttribute('role', 'region');
    this.panel.setAttribute('aria-labelledby', 'herald-inbox-heading');
    this.bell.setAttribute('aria-controls', 'herald-inbox-panel');
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.hasAttribute('inline')) {
        this.removeAttribute('open');
        this.bell.focus();
      }
    });
    // a constructed stylesheet, not a <style> element: a host page whose Content-Security-Policy
    // allows no inline style (the web app's) still styles the component
    if ('adoptedStyleSheets' in this.root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
      this.root.adoptedStyleSheets = [sheet];
    } else this.root.append(element('style', { textContent: STYLES }));
    this.root.append(this.bell, this.panel);
    this.observer = new IntersectionObserver(
      (entries) => entries.some((entry) => entry.isIntersecting) && void this.loadMore(),
      { root: this.scroller, rootMargin: '80px' },
    );
    this.renderBadge();
  }

  connectedCallback(): void {
    this.observer.observe(this.sentinel);
    this.start();
  }

  disconnectedCallback(): void {
    this.observer.disconnect();
    this.stop();
  }

  attributeChangedCallback(name: string, previous: string | null, value: string | null): void {
    if (name === 'open') {
      this.panel.hidden = value === null;
      this.bell.setAttribute('aria-expanded', String(value !== null));
      return;
    }
    if (previous === value || !this.isConnected) return;
    if (name === 'token' && previous && value && this.socket?.connected) this.refreshToken(value);
    else this.start();
  }

  /** A fresh token for the same recipient: the socket keeps its session, the API calls use the new one. */
  private refreshToken(token: string): void {
    this.api = new InboxApi(this.gateway, token);
    this.socket?.emit('auth:refresh', token, (answer: { ok: boolean }) => {
      if (!answer?.ok) this.start();
    });
  }

  /** The number the badge shows. */
  get unreadCount(): number {
    return this.unread;
  }

  private get gateway(): string {
    return (this.getAttribute('gateway') || location.origin).replace(/\/+$/, '');
  }

  private stop(): void {
    this.generation += 1;
    this.socket?.disconnect();
    this.socket = undefined;
  }

  /** (Re)opens the inbox for the current gateway and token: first page, unread count, then the socket. */
  private start(): void {
    this.stop();
    const token = this.getAttribute('token');
    this.rows.clear();
    this.items.clear();
    this.list.replaceChildren();
    this.nextCursor = null;
    this.newestSeen = undefined;
    if (!token) {
      this.setStatus('Not signed in');
      return;
    }
    this.api = new InboxApi(this.gateway, token);
    const generation = this.generation;
    void (async () => {
      try {
        await this.loadPage(null);
        // asked before any change made here meanwhile (a click on a row just loaded): shown only if
        // nothing newer was asked for or shown
        const seq = ++this.unreadSeq;
        const count = await this.api!.unreadCount();
        if (generation !== this.generation) return;
        this.showIfNewest(seq, count);
        this.connectSocket(token);
      } catch (error) {
        this.setStatus(`Could not load notifications: ${(error as Error).message}`);
      }
    })();
  }

  private connectSocket(token: string): void {
    // (the auth callback reads the attribute again on every reconnect: it may hold a refreshed token)
    const socket = io(this.gateway, {
      path: '/socket.io',
      transports: ['websocket'],
      // a function: every reconnect sends the newest notification seen, and the server replays what came after
      auth: (send) => {
        const current = this.getAttribute('token') ?? token;
        send(this.newestSeen ? { token: current, since: this.newestSeen } : { token: current });
      },
    });
    this.socket = socket;
    socket.on('connect', () => this.setStatus(''));
    socket.on('connect_error', () => this.setStatus('Offline: reconnecting…'));
    socket.on('disconnect', () => this.setStatus('Offline: reconnecting…'));
    socket.on('notification:new', (payload: NotificationNew) => this.receive(payload));
    socket.on('notification:updated', (payload: NotificationUpdated) => this.applyUpdate(payload));
    socket.on('unread-count', ({ count }: { count: number }) => {
      this.setUnread(count);
    });
    socket.on('catch-up', ({ status }: { status: string }) => {
      // a partial replay: start over from the API; a full one: the exact count, whatever was read meanwhile
      if (status !== 'complete') this.start();
      else void this.refreshUnread();
    });
    socket.on('auth:expiring', (payload: { expiresAt: string }) =>
      this.emit('herald:token-expiring', payload),
    );
    socket.on('auth:expired', (payload: { code: string }) => {
      this.setStatus('Signed out: the token expired');
      this.emit('herald:token-expired', payload);
    });
  }

  private receive({ notification, catchUp }: NotificationNew): void {
    if (this.rows.has(notification.id) || notification.archived) return;
    this.remember(notification);
    this.list.prepend(this.row(notification));
    this.renderEmpty();
    // No unread-count follows a new notification (realtime README): count it here at once, then
    // ask the API. A count answered just before this push may already hold it (it was stored
    // before it was pushed): +1 on that showed one too many until the next change.
    if (!notification.read) {
      this.setUnread(this.unread + 1);
      void this.recount();
    }
    this.emit('herald:notification', { notification, catchUp: Boolean(catchUp) });
  }

  private applyUpdate({ notificationId, change, unreadCount }: NotificationUpdated): void {
    const row = this.rows.get(notificationId);
    const item = this.items.get(notificationId);
    if (change.kind === 'read' && row && item) {
      item.read = Boolean(change.read);
      row.replaceWith(this.row(item));
    }
    if ((change.kind === 'archived' && change.archived !== false) || change.kind === 'deleted') {
      row?.remove();
      this.rows.delete(notificationId);
      this.renderEmpty();
    }
    if (typeof unreadCount === 'number') {
      this.setUnread(unreadCount);
    }
  }

  /** The server's count, unless a newer one was shown while the request was out (the socket's, a later answer). */
  private async refreshUnread(): Promise<void> {
    const seq = ++this.unreadSeq;
    const count = await this.api?.unreadCount().catch(() => undefined);
    if (count !== undefined) this.showIfNewest(seq, count);
  }

  /** The API's count after new notifications arrived; a burst of them costs two requests, not one each. */
  private async recount(): Promise<void> {
    if (this.recounting) {
      this.recountAgain = true;
      return;
    }
    this.recounting = true;
    try {
      do {
        this.recountAgain = false;
        await this.refreshUnread();
      } while (this.recountAgain);
    } finally {
      this.recounting = false;
    }
  }

  /** A count asked for as `seq`: shown unless a newer one was asked for and shown meanwhile. */
  private showIfNewest(seq: number, count: number): void {
    if (seq < this.unreadShown) return;
    this.unreadShown = seq;
    this.showUnread(count);
  }

  private remember(item: InboxItem): void {
    this.items.set(item.id, item);
    if (!this.newestSeen || item.createdAt > this.newestSeen) this.newestSeen = item.createdAt;
  }

  private async loadPage(cursor: string | null): Promise<void> {
    if (!this.api || this.loadingPage) return;
    this.loadingPage = true;
    const generation = this.generation;
    try {
      const page = await this.api.page(cursor);
      if (generation !== this.generation) return;
      for (const item of page.items) {
        if (this.rows.has(item.id)) continue;
        this.remember(item);
        this.list.append(this.row(item));
      }
      this.nextCursor = page.nextCursor;
      this.renderEmpty();
    } finally {
      this.loadingPage = false;
    }
  }

  private async loadMore(): Promise<void> {
    if (!this.nextCursor || this.panel.hidden) return;
    try {
      await this.loadPage(this.nextCursor);
    } catch (error) {
      this.setStatus(`Could not load more: ${(error as Error).message}`);
    }
  }

  /** textContent only: a notification's text is data, never markup. */
  private row(item: InboxItem): HTMLLIElement {
    const when = new Date(item.createdAt);
    const title = element('button', { type: 'button', className: 'title', textContent: item.title });
    title.addEventListener('click', () => this.emit('herald:open', { notification: item }));
    const time = element('time', { className: 'meta', textContent: when.toLocaleString() });
    time.setAttribute('datetime', item.createdAt);
    const toggleRead = element('button', {
      type: 'button',
      textContent: item.read ? 'Mark unread' : 'Mark read',
    });
    toggleRead.setAttribute('aria-label', `${item.read ? 'Mark unread' : 'Mark read'}: ${item.title}`);
    toggleRead.addEventListener('click', () => void this.update(item, { read: !item.read }));
    const archive = element('button', { type: 'button', textContent: 'Archive' });
    archive.setAttribute('aria-label', `Archive: ${item.title}`);
    archive.addEventListener('click', () => void this.update(item, { archived: true }));
    const row = element(
      'li',
      { className: item.read ? 'item' : 'item unread' },
      element(
        'div',
        { className: 'content' },
        title,
        element('p', { className: 'body', textContent: item.body }),
        time,
      ),
      element('div', { className: 'actions' }, toggleRead, archive),
    );
    row.dataset.id = item.id;
    row.dataset.read = String(item.read);
    this.rows.set(item.id, row);
    return row;
  }

  private async update(item: InboxItem, change: { read?: boolean; archived?: boolean }): Promise<void> {
    try {
      const updated = await this.api!.update(item.id, change);
      // the socket says the same (and the unread count); applying the answer keeps the list right without it
      if (change.archived) this.applyUpdate({ notificationId: item.id, change: { kind: 'archived' } });
      else this.applyUpdate({ notificationId: item.id, change: { kind: 'read', read: updated.read } });
      await this.refreshUnread();
    } catch (error) {
      this.setStatus(`Could not update: ${(error as Error).message}`);
    }
  }

  private async markAllRead(): Promise<void> {
    try {
      const result = await this.api!.readAll();
      for (const [id, item] of this.items) {
        if (!item.read) this.applyUpdate({ notificationId: id, change: { kind: 'read', read: true } });
      }
      this.setUnread(result.unreadCount);
    } catch (error) {
      this.setStatus(`Could not mark all read: ${(error as Error).message}`);
    }
  }

  private async togglePreferences(): Promise<void> {
    const open = this.root.querySelector('form.preferences');
    if (open) {
      open.remove();
      this.scroller.hidden = false;
      this.preferencesButton.setAttribute('aria-expanded', 'false');
      return;
    }
    try {
      const preferences = await this.api!.preferences();
      const form = this.preferencesForm(preferences);
      this.scroller.hidden = true;
      this.scroller.after(form);
      this.preferencesButton.setAttribute('aria-expanded', 'true');
      form.querySelector('input')?.focus();
    } catch (error) {
      this.setStatus(`Could not load preferences: ${(error as Error).message}`);
    }
  }

  /** The preference center: channels on or off, globally and per category the recipient has set. */
  private preferencesForm(preferences: Preferences): HTMLFormElement {
    const switches = (legend: string, name: string, values: Partial<Record<Channel, boolean>>) =>
      element(
        'fieldset',
        {},
        element('legend', { textContent: legend }),
        ...CHANNELS.map(({ key, label }) =>
          element(
            'label',
            {},
            element('input', { type: 'checkbox', name: `${name}.${key}`, checked: values[key] !== false }),
            label,
          ),
        ),
      );
    const form = element(
      'form',
      { className: 'preferences' },
      switches('All notifications', 'channels', preferences.channels),
      ...Object.entries(preferences.categories).map(([category, values]) =>
        switches(`Category: ${category}`, `categories.${category}`, values),
      ),
      element('button', { type: 'submit', className: 'primary', textContent: 'Save preferences' }),
    );
    form.setAttribute('aria-label', 'Notification preferences');
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const read = (name: string) =>
        Object.fromEntries(
          CHANNELS.map(({ key }) => [
            key,
            (form.elements.namedItem(`${name}.${key}`) as HTMLInputElement).checked,
          ]),
        ) as Record<Channel, boolean>;
      const next: Preferences = {
        channels: read('channels'),
        categories: Object.fromEntries(
          Object.keys(preferences.categories).map((category) => [category, read(`categories.${category}`)]),
        ),
      };
      this.api!.savePreferences(next).then(
        () => this.setStatus('Preferences saved'),
        (error: Error) => this.setStatus(`Could not save preferences: ${error.message}`),
      );
    });
    return form;
  }

  private renderEmpty(): void {
    const empty = this.list.querySelector('.empty');
    if (this.rows.size === 0 && !empty) {
      this.list.append(element('li', { className: 'empty', textContent: 'No notifications yet' }));
    } else if (this.rows.size > 0) empty?.remove();
  }

  /** A count known now (the socket's, an answer to a change made here): newer than any still asked for. */
  private setUnread(count: number): void {
    this.unreadShown = ++this.unreadSeq;
    this.showUnread(count);
  }

  private showUnread(count: number): void {
    this.unread = Math.max(0, count);
    this.renderBadge();
    this.emit('herald:unread-count', { count: this.unread });
  }

  private renderBadge(): void {
    this.badge.textContent = this.unread > 99 ? '99+' : String(this.unread);
    this.badge.hidden = this.unread === 0;
    this.badge.dataset.count = String(this.unread);
    this.bell.setAttribute('aria-label', `Notifications, ${this.unread} unread`);
  }

  private setStatus(text: string): void {
    this.statusLine.textContent = text;
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}
