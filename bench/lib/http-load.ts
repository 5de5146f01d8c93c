import { appendFileSync } from 'node:fs';
/**
 * A closed-loop HTTP load (autocannon): `connections` keep-alive
 * connections, each sending its next request as soon as the last is
 * answered, for `seconds`. Each request is built by `request(i)`, so users,
 * tokens and bodies rotate.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  headers: Record<string, string>;
  body: string;
}

export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  /** run for this long, or… */
  seconds?: number;
  /** …until this many requests were sent (a warm-up) */
  amount?: number;
  request: (index: number) => LoadRequest;
}

export interface LoadResult {
  seconds: number;
  /** 2xx answers */
  accepted: number;
  acceptedPerSecond: number;
  latencyMs: { p50: number; p99: number };
  non2xx: number;
  /** connection errors and timeouts */
  errors: number;
  statuses: Record<string, number>;
}

export async function closedLoop(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  // BENCH_LATENCY_TRACE=<file>: each answer's end time and latency (ms), to see whether slow ones cluster
  const trace: string[] = [];
  const traceFile = process.env.BENCH_LATENCY_TRACE;
  let finished!: (result: autocannon.Result) => void;
  let failed!: (error: unknown) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const instance = autocannon(
    {
      url: options.url,
      connections: options.connections,
      ...(options.amount ? { amount: options.amount } : { duration: options.seconds ?? 10 }),
      timeout: 30,
      requests: [
        {
          method: 'POST',
          path: options.path,
          setupRequest: (request) => {
            const { headers, body } = options.request(next++);
            return { ...request, headers: { 'content-type': 'application/json', ...headers }, body };
          },
        },
      ],
    },
    (error, result) => (error ? failed(error) : finished(result)),
  );
  if (traceFile) {
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      trace.push(`${Date.now()} ${ms.toFixed(2)}`);
    });
  }
  const result = await done;
  if (traceFile) appendFileSync(traceFile, `${trace.join('\n')}\n`);
  const statuses = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
  );
  const accepted = result['2xx'];
  return {
    seconds: Number(result.duration.toFixed(2)),
    accepted,
    acceptedPerSecond: Math.round(accepted / result.duration),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    non2xx: result.non2xx,
    errors: result.errors,
    statuses,
  };
}
