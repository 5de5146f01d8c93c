// A small JSON client for the gateway port: every call says which request it
// was when its answer is not the expected one, so a failing step names the
// hop that broke and shows the problem+json the platform answered.

export interface GatewayResponse<T = unknown> {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  /** the parsed JSON body, or the text when the answer is not JSON */
  body: T;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GatewayClient {
  readonly baseUrl: string;
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<GatewayResponse<T>>;
  get<T = unknown>(path: string, options?: RequestOptions): Promise<GatewayResponse<T>>;
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<GatewayResponse<T>>;
  patch<T = unknown>(path: string, body: unknown, options?: RequestOptions): Promise<GatewayResponse<T>>;
}

export function gatewayClient(baseUrl: string): GatewayClient {
  async function request<T>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<GatewayResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    const isJson = /json/.test(response.headers.get('content-type') ?? '');
    const body = (isJson && text ? JSON.parse(text) : text) as T;
    return { method, path, status: response.status, headers: response.headers, body };
  }
  return {
    baseUrl,
    request,
    get: (path, options) => request('GET', path, options),
    post: (path, body, options) => request('POST', path, { ...options, body }),
    patch: (path, body, options) => request('PATCH', path, { ...options, body }),
  };
}

/** Returns the response when its status is `expected`; otherwise fails naming the request and its answer. */
export function expectStatus<T>(response: GatewayResponse<T>, expected: number): GatewayResponse<T> {
  if (response.status !== expected) {
    const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    throw new Error(
      `${response.method} ${response.path} answered ${response.status}, expected ${expected}: ${body.slice(0, 1000)}`,
    );
  }
  return response;
}

/** A value an earlier step produced; a clear error when that step failed, instead of a confusing one here. */
export function fromEarlierStep<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new Error(`this step needs ${what}, which an earlier step failed to produce`);
  return value;
}
