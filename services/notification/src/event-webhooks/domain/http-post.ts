import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type LookupFunction, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';

/** What one attempt got back. */
export interface PostOutcome {
  /** the receiver's status; absent when no answer came */
  statusCode?: number;
  latencyMs: number;
  responseExcerpt?: string;
  error?: string;
}

/** How much of an answer the attempts log keeps. */
const EXCERPT_BYTES = 512;

/**
 * A `lookup` for the agent that answers with the addresses already checked,
 * so the connection goes to exactly what the SSRF check passed: no second
 * DNS query between the check and the connect for a rebinding name to win.
 */
function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  }) as unknown as LookupFunction;
}

/**
 * POSTs one event: no redirects followed (a 3xx is a failure, and a redirect
 * could point anywhere), the whole exchange bounded by `timeoutMs`, the
 * answer read only as far as the excerpt and then dropped.
 */
export function postEvent(
  url: URL,
  addresses: readonly string[],
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<PostOutcome, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, latencyMs: elapsed() });
    };
    const req = send(url, {
      method: 'POST',
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Herald-Webhooks/1',
      },
      lookup: pinnedLookup(addresses),
      agent: false,
    });
    const timer = setTimeout(() => {
      finish({ error: `timed out after ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
    req.on('response', (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({
          statusCode: response.statusCode ?? 0,
          responseExcerpt: Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_BYTES),
        });
      response.on('data', (chunk: Buffer) => {
        if (size < EXCERPT_BYTES) chunks.push(chunk.subarray(0, EXCERPT_BYTES - size));
        size += chunk.length;
        if (size >= EXCERPT_BYTES) {
          done();
          response.destroy();
        }
      });
      response.on('end', done);
      response.on('error', done);
    });
    req.end(body);
  });
}
