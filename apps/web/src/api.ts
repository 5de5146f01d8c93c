// Calls to the gateway this page came from (same origin: no CORS, no third party).
import { session, type Tokens } from './session';

export interface FieldError {
  field: string;
  message: string;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    /** the fields the server named (`/body/steps/2/template`: what is wrong where) */
    readonly errors: FieldError[] = [],
  ) {
    super(detail);
  }
}

/** An error as a person reads it: the server's detail, then each field it named. */
export function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof Problem) || error.errors.length === 0) return message;
  const named = error.errors
    .map((item) => `${item.field} ${item.message}`)
    .filter((text) => !message.includes(text));
  return named.length ? `${message} (${named.join('; ')})` : message;
}

/** A file sent as it is (a CSV import), not as JSON. */
export class RawBody {
  constructor(
    readonly body: Blob,
    readonly type: string,
  ) {}
}

async function send(
  method: string,
  path: string,
  body: unknown,
  token: string | undefined,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body instanceof RawBody) {
    headers['content-type'] = body.type;
    return fetch(path, { method, headers, body: body.body });
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time, however many calls failed with an expired token together. */
export function refresh(): Promise<boolean> {
  const tokens = session.tokens;
  if (!tokens) return Promise.resolve(false);
  refreshing ??= (async () => {
    const response = await send(
      'POST',
      '/api/v1/auth/refresh',
      { refreshToken: tokens.refreshToken },
      undefined,
    );
    if (!response.ok) {
      session.set(null);
      return false;
    }
    session.set((await response.json()) as Tokens);
    return true;
  })().finally(() => (refreshing = null));
  return refreshing;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  let response = await send(method, path, body, session.tokens?.accessToken);
  if (response.status === 401 && session.tokens && (await refresh())) {
    response = await send(method, path, body, session.tokens?.accessToken);
  }
  if (response.status === 204) return undefined as T;
  const json = (await response.json().catch(() => ({}))) as {
    code?: string;
    detail?: string;
    title?: string;
    errors?: FieldError[];
  };
  if (!response.ok) {
    throw new Problem(
      response.status,
      json.code ?? 'error',
      json.detail ?? json.title ?? `HTTP ${response.status}`,
      Array.isArray(json.errors) ? json.errors : [],
    );
  }
  return json as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
