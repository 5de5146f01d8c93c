import { takeInfrastructure } from './infra/started';

/** Jest globalTeardown: stops whatever global-setup started (java server, containers, mongod). */
export default async function globalTeardown(): Promise<void> {
  const infra = takeInfrastructure();
  if (!infra) return;
  for (const [name, value] of Object.entries(infra.originalEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  const results = await Promise.allSettled(infra.started.map((provided) => provided.stop()));
  for (const result of results) {
    // eslint-disable-next-line no-console -- teardown has no logger; a failed stop must be seen
    if (result.status === 'rejected') console.warn('[test-support] teardown:', result.reason);
  }
}
