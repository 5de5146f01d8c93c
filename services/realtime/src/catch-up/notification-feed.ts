import { Type, type Static } from '@sinclair/typebox';
import { API_PREFIX, DateTime, validateMessage } from '@herald/contracts';
import { AppError, TransientError } from '@herald/runtime';

/** One item of the notification API's inbox page; only what catch-up needs is required, the rest is passed on. */
export const CatchUpItem = Type.Object({
  id: Type.String({ minLength: 1 }),
  createdAt: DateTime,
});
export type CatchUpItem = Static<typeof CatchUpItem> & Record<string, unknown>;

export const CatchUpPage = Type.Object({
  items: Type.Array(CatchUpItem),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export type CatchUpPage = { items: CatchUpItem[]; nextCursor: string | null };

/** Reads a user's notifications newer than a time, newest first, one page at a time, as that user. */
export interface NotificationFeed {
  pageSince(token: string, since: string, cursor?: string): Promise<CatchUpPage>;
}

export interface HttpNotificationFeedOptions {
  /** the notification service (or the gateway in front of it) */
  baseUrl: string;
  timeoutMs: number;
  pageSize?: number;
}

/**
 * The notification service's inbox API, called with the user's own token:
 * realtime keeps no copy of anyone's notifications and needs no privileged
 * credential, and the API's own authorization decides what the user sees.
 */
export function httpNotificationFeed(options: HttpNotificationFeedOptions): NotificationFeed {
  const base = options.baseUrl.replace(/\/+$/, '');
  const pageSize = options.pageSize ?? 100;
  return {
    async pageSince(token, since, cursor) {
      const query = new URLSearchParams({ since, limit: String(pageSize) });
      if (cursor) query.set('cursor', cursor);
      const response = await fetch(`${base}${API_PREFIX}/notifications?${query}`, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (!response.ok) {
        if (response.status === 401 && (await problemCode(response)) === 'account_disabled') {
          // auth disabled the account and the notification service knows it: this socket is done too
          throw new AppError(403, 'account_disabled', 'The account is disabled');
        }
        if (!response.bodyUsed) await response.body?.cancel();
        throw new TransientError('catch_up_unavailable', `The notification API answered ${response.status}`);
      }
      const result = validateMessage(CatchUpPage, await response.json());
      if (!result.ok) {
        throw new TransientError('catch_up_invalid', 'The notification API answered with an unexpected page');
      }
      return result.value;
    },
  };
}

/** The `code` of a problem+json answer, if it has one. */
async function problemCode(response: Response): Promise<string | undefined> {
  const body = (await response.json().catch(() => undefined)) as { code?: unknown } | undefined;
  return typeof body?.code === 'string' ? body.code : undefined;
}
