import { Writable } from 'node:stream';
import { createLogger, lazyChild } from '../src/logger';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('redacts passwords, tokens, API keys and authorization headers wherever they appear', () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: 'svc', level: 'info', format: 'json' }, stream);
    log.info(
      {
        req: { headers: { authorization: 'Bearer abc.def.ghi', 'user-agent': 'jest' } },
        body: { email: 'a@example.com', password: 'hunter22', refreshToken: 'r-123' },
        mailgun: { apiKey: 'key-123', domain: 'mg.example.com' },
        token: 't-1',
      },
      'hello',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of ['abc.def.ghi', 'hunter22', 'r-123', 'key-123', 't-1'])
      expect(line).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      level: 'info',
      name: 'svc',
      msg: 'hello',
      body: { email: 'a@example.com', password: '[redacted]' },
      mailgun: { domain: 'mg.example.com', apiKey: '[redacted]' },
      req: { headers: { 'user-agent': 'jest', authorization: '[redacted]' } },
    });
  });

  it('redacts the credentials an HTTP client error carries', () => {
    const { lines, stream } = capture();
    const log = createLogger({ name: 'svc', level: 'info', format: 'json' }, stream);
    const cause = {
      message: 'boom',
      config: { headers: { Authorization: 'Basic c2VjcmV0' }, auth: { password: 'pw-1' } },
    };
    log.error(
      { err: { message: 'send failed', cause, config: { headers: { authorization: 'Bearer t-2' } } } },
      'x',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of ['c2VjcmV0', 'pw-1', 't-2']) expect(line).not.toContain(secret);
    expect(line).toContain('send failed');
  });

  describe('lazyChild', () => {
    it('makes no child for calls at a disabled level, nor for level checks, even nested', () => {
      const { lines, stream } = capture();
      const root = createLogger({ name: 'svc', level: 'info', format: 'json' }, stream);
      const child = jest.spyOn(root, 'child');
      const outer = lazyChild(root, { messageId: 'm-1' });
      const inner = lazyChild(outer, { jobId: 'j-1' });
      inner.debug('not written');
      expect(inner.isLevelEnabled('debug')).toBe(false);
      expect(inner.level).toBe('info');
      expect(child).not.toHaveBeenCalled();
      expect(lines).toEqual([]);
    });

    it('writes with every binding, and redacts them, once a call is at an enabled level', () => {
      const { lines, stream } = capture();
      const root = createLogger({ name: 'svc', level: 'info', format: 'json' }, stream);
      const inner = lazyChild(lazyChild(root, { messageId: 'm-1', token: 't-secret' }), { jobId: 'j-1' });
      inner.warn({ attempt: 2 }, 'first');
      inner.info('second');
      expect(lines).toMatchObject([
        { level: 'warn', msg: 'first', messageId: 'm-1', jobId: 'j-1', attempt: 2, token: '[redacted]' },
        { level: 'info', msg: 'second', messageId: 'm-1', jobId: 'j-1' },
      ]);
    });
  });
});
