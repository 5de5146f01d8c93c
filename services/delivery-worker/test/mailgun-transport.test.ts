// The transport under mailgun.js (mailgun-transport.ts) against a real local HTTP server: what
// arrives, what comes back, and the error shapes the worker's classification reads.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo } from 'node:net';
import { classifyMailgunError } from '../src/deliveries/domain/classify';
import { mailgunAdapter, type Adapter } from '../src/providers/mailgun-transport';
import { MailgunProvider } from '../src/providers/mailgun';
import { type EmailJob } from '../src/providers/provider';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{}');

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  answer = (_req, res) => res.end('{}');
});

function adapter(options: Parameters<typeof mailgunAdapter>[0] = { env: {} }): Adapter {
  const made = mailgunAdapter(options);
  if (!made) throw new Error('no adapter');
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('mailgunAdapter', () => {
  it('is not used when a proxy is configured through the environment (axios honours those)', () => {
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
      expect(mailgunAdapter({ env: { [name]: 'http://proxy.internal:3128' } })).toBeUndefined();
    }
    expect(mailgunAdapter({ env: {} })).toBeDefined();
  });

  it('sends the encoded body once with its length, the headers, and the query; asks for no compression', async () => {
    answer = (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"id":"<1@mg>","message":"Queued. Thank you."}');
    };
    const response = await adapter()({
      url: `${base}/v3/mg.test/messages`,
      method: 'post',
      params: new URLSearchParams({ event: 'accepted', limit: '10' }),
      data: Buffer.from('field=value'),
      headers: {
        Authorization: 'Basic abc',
        'Content-Type': 'multipart/form-data; boundary=x',
        'Accept-Encoding': 'gzip',
      },
      timeout: 5_000,
    });
    expect(response.status).toBe(200);
    expect(response.data).toBe('{"id":"<1@mg>","message":"Queued. Thank you."}');
    expect(response.headers['content-type']).toBe('application/json');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/v3/mg.test/messages?event=accepted&limit=10',
      body: 'field=value',
    });
    expect(seen[0]!.headers).toMatchObject({
      authorization: 'Basic abc',
      'content-type': 'multipart/form-data; boundary=x',
      'content-length': '11',
    });
    expect(seen[0]!.headers['accept-encoding']).toBeUndefined();
  });

  it('reads AxiosHeaders-like objects through toJSON, and drops unset values', async () => {
    await adapter()({
      url: `${base}/x`,
      method: 'get',
      headers: {
        toJSON: () => ({ 'X-One': '1', 'X-Unset': undefined, 'X-False': false, 'X-List': ['a', 'b'] }),
      },
    });
    expect(seen[0]!.headers['x-one']).toBe('1');
    expect(seen[0]!.headers['x-list']).toBe('a, b');
    expect(seen[0]!.headers).not.toHaveProperty('x-unset');
    expect(seen[0]!.headers).not.toHaveProperty('x-false');
  });

  it('rejects an answer outside 2xx with the response (status, text, headers) as axios does', async () => {
    answer = (_req, res) => {
      res.statusCode = 429;
      res.setHeader('retry-after', '7');
      res.end('{"message":"slow down"}');
    };
    const error = await rejection(adapter()({ url: `${base}/v3/x`, method: 'post', data: 'a' }));
    expect(error.message).toBe('Request failed with status code 429');
    expect(error.code).toBe('ERR_BAD_REQUEST');
    expect(error.response).toMatchObject({
      status: 429,
      data: '{"message":"slow down"}',
      headers: expect.objectContaining({ 'retry-after': '7' }),
    });
  });

  it('rejects with Node’s code when nothing listens (never reached: the next provider may be tried)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(
      adapter()({ url: `http://127.0.0.1:${port}/v3/x`, method: 'post', data: 'a' }),
    );
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('aborts a request whose socket stays idle for `timeout` with axios’s code and message', async () => {
    answer = () => undefined; // never answers
    const error = await rejection(adapter()({ url: `${base}/slow`, method: 'post', data: 'a', timeout: 50 }));
    expect(error.code).toBe('ECONNABORTED');
    expect(error.message).toBe('timeout of 50ms exceeded');
    expect(classifyMailgunError(error)).toMatchObject({ code: 'provider_timeout' });
  });

  it('refuses an answer larger than its bound', async () => {
    answer = (_req, res) => res.end('x'.repeat(2_000));
    const error = await rejection(
      adapter({ env: {}, maxAnswerBytes: 1_000 })({ url: `${base}/big`, method: 'get' }),
    );
    expect(error.code).toBe('ERR_BAD_RESPONSE');
  });

  it('refuses a body that is not already encoded, and a protocol other than http(s)', async () => {
    expect((await rejection(adapter()({ url: `${base}/x`, method: 'post', data: { a: 1 } }))).code).toBe(
      'ERR_BAD_REQUEST',
    );
    expect((await rejection(adapter()({ url: 'ftp://127.0.0.1/x', method: 'get' }))).code).toBe(
      'ERR_BAD_REQUEST',
    );
    expect(seen).toHaveLength(0);
  });
});

describe('MailgunProvider over the transport', () => {
  const job = {
    notificationId: 'n-1',
    jobId: 'j-1',
    channel: 'email',
    recipient: { email: 'ada@example.com', name: 'Ada' },
    content: { subject: 'Hi', text: 'Hello' },
    metadata: {},
    headers: {},
  } as unknown as EmailJob;
  /** made after the test has set the environment: the transport is chosen at construction */
  const provider = () =>
    new MailgunProvider({
      apiKey: 'key-test',
      domain: 'mg.test',
      url: base,
      from: 'Herald <noreply@mg.test>',
      timeoutMs: 5_000,
    });

  it('sends the form through it (not axios’s adapter): one request, no compression asked, the id back', async () => {
    const saved = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].map((name) => [
      name,
      process.env[name],
    ]);
    for (const [name] of saved) delete process.env[name!];
    try {
      answer = (_req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end('{"id":"<20261205.1@mg.test>","message":"Queued. Thank you."}');
      };
      await expect(provider().send(job)).resolves.toEqual({ providerMessageId: '<20261205.1@mg.test>' });
      expect(seen).toHaveLength(1);
      const request = seen[0]!;
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/v3/mg.test/messages');
      expect(request.headers.authorization).toBe(`Basic ${Buffer.from('api:key-test').toString('base64')}`);
      // axios's own Node adapter asks for gzip/deflate/br and names itself; this transport does neither
      expect(request.headers['accept-encoding']).toBeUndefined();
      expect(request.headers['user-agent'] ?? '').not.toMatch(/axios/);
      expect(request.headers['content-length']).toBe(String(Buffer.byteLength(request.body)));
      expect(request.body).toContain('name="to"\r\n\r\nAda <ada@example.com>\r\n');
      expect(request.body).toContain('name="v:notification-id"\r\n\r\nn-1\r\n');
    } finally {
      for (const [name, value] of saved) if (value !== undefined) process.env[name!] = value;
    }
  });

  it('keeps Retry-After of a 429 through mailgun.js’s APIError', async () => {
    answer = (_req, res) => {
      res.statusCode = 429;
      res.setHeader('retry-after', '12');
      res.end('{"message":"rate limited"}');
    };
    await expect(provider().send(job)).rejects.toMatchObject({
      code: 'provider_rate_limited',
      retryAfterMs: 12_000,
    });
  });
});
