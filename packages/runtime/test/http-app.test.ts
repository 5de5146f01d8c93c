import pino from 'pino';
import { Type } from '@sinclair/typebox';
import { createHttpApp, type HttpApp } from '../src/http/app';
import { ConflictError, TooManyRequestsError } from '../src/errors';

const logger = pino({ level: 'silent' });

describe('the HTTP app every service starts from', () => {
  let app: HttpApp;
  let databaseUp = true;

  beforeAll(async () => {
    app = await createHttpApp({
      service: 'demo',
      logger,
      readiness: { database: () => databaseUp },
      bodyLimit: 1024,
    });
    app.post(
      '/api/v1/things',
      {
        schema: {
          body: Type.Object(
            {
              name: Type.String({ minLength: 2 }),
              email: Type.String({ format: 'email' }),
              count: Type.Integer(),
            },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ name: Type.String() }) },
        },
      },
      async (request, reply) => {
        if (request.body.name === 'taken') throw new ConflictError('name_taken', 'That name is taken');
        if (request.body.name === 'busy') throw new TooManyRequestsError(7);
        if (request.body.name === 'bug') throw new Error('secret internal detail');
        return reply.code(201).send({ name: request.body.name });
      },
    );
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/v1/things', payload: payload as object, headers });

  it('accepts a valid body', async () => {
    const response = await post({ name: 'ok', email: 'a@example.com', count: 1 });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ name: 'ok' });
  });

  it('answers invalid input with problem+json listing every bad field', async () => {
    const response = await post({ name: 'x', email: 'nope', extra: true });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(problem).toMatchObject({
      type: 'urn:herald:problem:validation_failed',
      title: 'Bad Request',
      status: 400,
      code: 'validation_failed',
      instance: '/api/v1/things',
    });
    expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      '/body/count',
      '/body/email',
      '/body/extra',
      '/body/name',
    ]);
  });

  it('maps typed errors to their status and code', async () => {
    const conflict = await post({ name: 'taken', email: 'a@example.com', count: 1 });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({
      code: 'name_taken',
      detail: 'That name is taken',
      title: 'Conflict',
    });

    const busy = await post({ name: 'busy', email: 'a@example.com', count: 1 });
    expect(busy.statusCode).toBe(429);
    expect(busy.headers['retry-after']).toBe('7');
  });

  it('answers an unexpected error with a generic 500 that leaks nothing', async () => {
    const response = await post({ name: 'bug', email: 'a@example.com', count: 1 });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ code: 'internal_error', detail: 'An unexpected error occurred' });
    expect(response.body).not.toContain('secret internal detail');
    expect(response.body).not.toContain('at ');
  });

  it('answers malformed JSON, oversized bodies and unknown routes as problems', async () => {
    const malformed = await app.inject({
      method: 'POST',
      url: '/api/v1/things',
      payload: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/problem\+json/);

    const huge = await post({ name: 'x'.repeat(5000), email: 'a@example.com', count: 1 });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().status).toBe(413);

    const missing = await app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'route_not_found', instance: '/api/v1/nothing-here' });
  });

  it('keeps a valid incoming x-request-id, and makes one otherwise', async () => {
    const kept = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'gateway-123' },
    });
    expect(kept.headers['x-request-id']).toBe('gateway-123');
    const made = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'bad id\n' },
    });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await post({});
    expect(problem.json().requestId).toBe(problem.headers['x-request-id']);
  });

  it('reports readiness from its dependency checks', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({
      status: 'ok',
      checks: { database: 'up' },
    });
    databaseUp = false;
    const down = await app.inject({ method: 'GET', url: '/health/ready' });
    databaseUp = true;
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'unavailable', checks: { database: 'down' } });
  });

  it('exposes Prometheus metrics, including request durations by route', async () => {
    await app.inject({ method: 'GET', url: '/health/live' });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/health\/live"[^}]*\} \d+/,
    );
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
  });

  it('serves the OpenAPI document and Swagger UI', async () => {
    const document = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(document.statusCode).toBe(200);
    expect(document.json().openapi).toBe('3.1.0');
    expect(Object.keys(document.json().paths)).toEqual(
      expect.arrayContaining(['/api/v1/things', '/health/ready']),
    );
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });
});

describe('shutdown', () => {
  it('fails readiness as soon as draining starts', async () => {
    const app = await createHttpApp({ service: 'demo', logger });
    await app.ready();
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    app.beginShutdown();
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
    await app.close();
  });
});
