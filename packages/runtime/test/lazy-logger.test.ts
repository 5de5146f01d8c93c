import { Writable } from 'node:stream';
import pino from 'pino';
import { type FastifyBaseLogger } from 'fastify';
import { lazyChildLogger } from '../src/http/lazy-logger';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const parent = pino({ level }, stream) as unknown as FastifyBaseLogger;
  let children = 0;
  const child = parent.child;
  // children inherit this property: count only the parent's own, and keep each logger's `this`
  parent.child = function (this: FastifyBaseLogger, ...args: Parameters<typeof child>) {
    if (this === parent) children += 1;
    return child.apply(this, args);
  } as typeof parent.child;
  return { parent, lines, children: () => children };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('the lazy per-request logger', () => {
  it('makes no child for lines below the level, and writes the rest with the request id bound', async () => {
    const { parent, lines, children } = capture('warn');
    const log = lazyChildLogger(parent, { reqId: 'r-1' }, {});
    log.info({ req: 'x' }, 'incoming request');
    log.debug('detail');
    expect(children()).toBe(0);

    log.warn({ code: 7 }, 'slow');
    log.error('failed');
    await flush();
    expect(children()).toBe(1);
    expect(lines.map((line) => [line.msg, line.reqId, line.level])).toEqual([
      ['slow', 'r-1', 40],
      ['failed', 'r-1', 50],
    ]);
  });

  it("follows a route's own level (Fastify's logLevel) over the parent's", async () => {
    const { parent, lines } = capture('warn');
    lazyChildLogger(parent, { reqId: 'r-2' }, { level: 'debug' }).info('shown');
    lazyChildLogger(parent, { reqId: 'r-3' }, { level: 'silent' }).error('hidden');
    lazyChildLogger(parent, { reqId: 'r-4' }, { level: 'error' }).warn('hidden too');
    await flush();
    expect(lines.map((line) => [line.msg, line.reqId])).toEqual([['shown', 'r-2']]);
  });

  it('hands out real children and the level', async () => {
    const { parent, lines } = capture('info');
    const log = lazyChildLogger(parent, { reqId: 'r-5' }, {});
    expect(log.level).toBe('info');
    log.child({ job: 1 }).info('from a child');
    await flush();
    expect(lines).toEqual([expect.objectContaining({ msg: 'from a child', reqId: 'r-5', job: 1 })]);
  });
});
