import http from 'node:http';
import https from 'node:https';

/**
 * The HTTP transport under mailgun.js: an adapter for its bundled axios
 * (axios's documented per-request `adapter` option), in place of axios's own
 * Node adapter.
 *
 * mailgun.js still does everything Mailgun-specific (URLs, the form, basic
 * auth, APIError from a failed answer); this only moves the bytes. axios's
 * Node adapter, built for every case (proxies, redirects, decompression,
 * progress events, streams both ways), spent about a third of the worker's
 * CPU per send (bench/worker-sends.ts profile, 2026-12-05); a request here is
 * one write of the encoded form on a kept-alive socket and the answer
 * collected as text.
 *
 * What it keeps of axios's behaviour, because the worker's classification
 * reads it (`classifyMailgunError` via mailgun.js's APIError):
 * - an answer outside 2xx rejects with `response` ({ status, statusText,
 *   data, headers }): mailgun.js turns that into an APIError with the status,
 *   and axios runs the per-request `transformResponse` on it first (which is
 *   how Retry-After survives);
 * - socket errors reject with Node's own `code` (ECONNREFUSED: never reached,
 *   the next provider may be tried; ECONNRESET and the like: unclear);
 * - `timeout` is axios's: the socket idle for that long aborts the request
 *   with code ECONNABORTED and "timeout of N ms exceeded" (unclear).
 * What it drops: redirects (already off: maxRedirects 0), compressed answers
 * (it asks for none), and proxies — {@link mailgunAdapter} answers undefined
 * when an HTTP(S)_PROXY variable is set, and axios's own adapter is used.
 */

/** The part of axios's request config this adapter reads. */
export interface AdapterConfig {
  url?: string;
  method?: string;
  params?: unknown;
  data?: unknown;
  headers?: { toJSON?(): Record<string, unknown> } | Record<string, unknown>;
  timeout?: number;
  validateStatus?: ((status: number) => boolean) | null;
}

export interface AdapterResponse {
  data: string;
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  config: AdapterConfig;
  request: http.ClientRequest;
}

/** An answer bigger than this is not Mailgun's (its answers are a few hundred bytes; events pages a few MB). */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

export type Adapter = (config: AdapterConfig) => Promise<AdapterResponse>;

/**
 * The adapter to hand axios for one provider, or undefined when a proxy is configured through the
 * environment (axios's adapter honours those variables; this one does not).
 */
export function mailgunAdapter(
  options: { env?: NodeJS.ProcessEnv; maxAnswerBytes?: number } = {},
): Adapter | undefined {
  const env = options.env ?? process.env;
  if (PROXY_VARIABLES.some((name) => env[name])) return undefined;
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
  const maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
  return (config) => request(config, agents, maxAnswerBytes);
}

function request(
  config: AdapterConfig,
  agents: { 'http:': http.Agent; 'https:': https.Agent },
  maxAnswerBytes: number,
): Promise<AdapterResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(String(config.url));
    if (config.params) {
      const params = new URLSearchParams(config.params as ConstructorParameters<typeof URLSearchParams>[0]);
      for (const [name, value] of params) url.searchParams.append(name, value);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(Object.assign(new Error(`unsupported protocol ${url.protocol}`), { code: 'ERR_BAD_REQUEST' }));
      return;
    }
    const body = bodyOf(config.data);
    const headers = headersOf(config.headers);
    if (body) headers['content-length'] = String(body.length);
    else delete headers['content-length'];
    delete headers['accept-encoding'];

    const send = url.protocol === 'https:' ? https.request : http.request;
    const req = send(url, {
      method: config.method?.toUpperCase() ?? 'GET',
      headers,
      agent: agents[url.protocol],
    });
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    if (config.timeout && config.timeout > 0) {
      const timeout = config.timeout;
      req.setTimeout(timeout, () => {
        const error = Object.assign(new Error(`timeout of ${timeout}ms exceeded`), { code: 'ECONNABORTED' });
        fail(error);
        req.destroy(error);
      });
    }
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxAnswerBytes) {
          const error = Object.assign(new Error(`answer larger than ${maxAnswerBytes} bytes`), {
            code: 'ERR_BAD_RESPONSE',
          });
          fail(error);
          // settled already: destroyed without an error, so nothing is emitted after the rejection
          res.destroy();
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        const status = res.statusCode ?? 0;
        const response: AdapterResponse = {
          data: Buffer.concat(chunks, size).toString('utf8'),
          status,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          config,
          request: req,
        };
        const ok = config.validateStatus ? config.validateStatus(status) : status >= 200 && status < 300;
        if (ok) {
          resolve(response);
          return;
        }
        reject(
          Object.assign(new Error(`Request failed with status code ${status}`), {
            code: status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST',
            response,
          }),
        );
      });
    });
    req.end(body);
  });
}

function bodyOf(data: unknown): Buffer | undefined {
  if (data === undefined || data === null) return undefined;
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  // Anything else would be a body axios's transformRequest should have encoded (ours encodes the form).
  throw Object.assign(new TypeError('the Mailgun transport sends only an encoded body'), {
    code: 'ERR_BAD_REQUEST',
  });
}

function headersOf(source: AdapterConfig['headers']): Record<string, string> {
  const plain =
    source && typeof (source as { toJSON?: unknown }).toJSON === 'function'
      ? (source as { toJSON(): Record<string, unknown> }).toJSON()
      : ((source ?? {}) as Record<string, unknown>);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(plain)) {
    if (value === undefined || value === null || value === false) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return headers;
}
