// The few notification API calls the inbox makes, with the token as a bearer.
// Everything goes to the gateway the host page names: no other origin is contacted.

export type Channel = 'in_app' | 'email' | 'sms';

export interface InboxItem {
  id: string;
  title: string;
  body: string;
  category?: string;
  channels: Channel[];
  read: boolean;
  archived: boolean;
  createdAt: string;
}

export interface InboxPage {
  items: InboxItem[];
  nextCursor: string | null;
}

export type ChannelSwitches = Partial<Record<Channel, boolean>>;

export interface Preferences {
  channels: ChannelSwitches;
  categories: Record<string, ChannelSwitches>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class InboxApi {
  constructor(
    private readonly gateway: string,
    private readonly token: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.gateway}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
    if (!response.ok) {
      throw new ApiError(
        response.status,
        json.code ?? 'error',
        json.detail ?? `${method} ${path}: ${response.status}`,
      );
    }
    return json as T;
  }

  page(cursor?: string | null, limit = 20): Promise<InboxPage> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    return this.call('GET', `/api/v1/notifications?${query}`);
  }

  async unreadCount(): Promise<number> {
    return (await this.call<{ unreadCount: number }>('GET', '/api/v1/notifications/unread-count'))
      .unreadCount;
  }

  update(id: string, change: { read?: boolean; archived?: boolean }): Promise<InboxItem> {
    return this.call('PATCH', `/api/v1/notifications/${encodeURIComponent(id)}`, change);
  }

  readAll(): Promise<{ updated: number; unreadCount: number }> {
    return this.call('POST', '/api/v1/notifications/read-all');
  }

  preferences(): Promise<Preferences> {
    return this.call('GET', '/api/v1/preferences');
  }

  savePreferences(preferences: Preferences): Promise<Preferences> {
    return this.call('PUT', '/api/v1/preferences', {
      channels: preferences.channels,
      categories: preferences.categories,
    });
  }
}
