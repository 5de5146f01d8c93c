import pino from 'pino';
import { buildApp } from '../src/app';

describe('the delivery-worker service', () => {
  it('is live and documents itself', async () => {
    const app = await buildApp({ logger: pino({ level: 'silent' }) });
    expect((await app.inject({ url: '/health/live' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/docs/json' })).json().info.title).toBe('Herald delivery-worker');
    await app.close();
  });
});
