// What `pnpm start` hands each service (scripts/stack.ts), without starting one.
import { SERVICES, serviceEnv } from '../stack';

describe("the local stack's service environment", () => {
  it.each(SERVICES)('has %s listen on loopback only, whatever HOST the shell or .env holds', (name) => {
    const env = serviceEnv(
      { HOST: '0.0.0.0', MONGO_URL: 'mongodb://127.0.0.1:27017/herald' },
      { name, port: 3001 },
    );
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.PORT).toBe('3001');
  });

  it('gives each service a database of its own on MONGO_URL', () => {
    const env = serviceEnv(
      { MONGO_URL: 'mongodb://127.0.0.1:27017/ignored' },
      { name: 'delivery-worker', port: 3003 },
      'e2e_1',
    );
    expect(new URL(env.MONGO_URL!).pathname).toBe('/e2e_1_delivery_worker');
  });
});
