import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';

export interface StoredNotification {
  id: string;
  title: string;
  body: string;
  createdAt: string;
  read: boolean;
  [field: string]: unknown;
}

export interface RecordedRequest {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

/**
 * Stands in for the notification service's inbox API, serving its contract
 * from an in-test list: `GET /api/v1/notifications?since=&limit=&cursor=`,
 * newest first, `{ items, nextCursor }`, only the bearer's own items.
 * The test decides which user a token belongs to through `ownerOf`.
 */
export async function startFakeNotificationApi(
  ownerOf: (authorization: string | undefined) => string | undefined,
) {
  const store = new Map<string, StoredNotification[]>();
  const requests: RecordedRequest[] = [];
  let failWith: number | undefined;
  const disabled = new Set<string>();

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    requests.push({
      path: url.pathname,
      query: url.searchParams,
      authorization: request.headers.authorization,
    });
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (failWith) return reply(failWith, { title: 'failure injected by the test' });
    if (request.method !== 'GET' || url.pathname !== '/api/v1/notifications') return reply(404, {});
    const userId = ownerOf(request.headers.authorization);
    if (!userId) return reply(401, { code: 'invalid_token' });
    if (disabled.has(userId)) return reply(401, { status: 401, code: 'account_disabled' });
    return reply(200, page(store.get(userId) ?? [], request));
  });

  function page(items: StoredNotification[], request: IncomingMessage) {
    const query = new URL(request.url ?? '/', 'http://fake').searchParams;
    const since = query.get('since');
    const limit = Number(query.get('limit') ?? 20);
    const offset = Number(query.get('cursor') ?? 0);
    const newestFirst = items
      .filter((item) => !since || Date.parse(item.createdAt) > Date.parse(since))
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
    const slice = newestFirst.slice(offset, offset + limit);
    const next = offset + limit < newestFirst.length ? String(offset + limit) : null;
    return { items: slice, nextCursor: next };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    add(userId: string, ...notifications: StoredNotification[]) {
      store.set(userId, [...(store.get(userId) ?? []), ...notifications]);
    },
    /** answers this user's token with 401 `account_disabled`, as the notification service does once auth disabled it */
    disable(userId: string) {
      disabled.add(userId);
    },
    failWith(status: number | undefined) {
      failWith = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type FakeNotificationApi = Awaited<ReturnType<typeof startFakeNotificationApi>>;
