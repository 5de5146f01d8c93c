/** Something global setup started (or found) for the test run. */
export interface Provided {
  /** connection URL handed to the test workers */
  url: string;
  /** one short phrase for the setup summary line, e.g. "mongo-java-server 1.47 (MongoDB 5.0.0)" */
  label: string;
  /** stops what setup started; a no-op for things it only found */
  stop: () => Promise<void>;
}

export const noop = async (): Promise<void> => {};

/**
 * Rejects with `message` after `ms`; the timer does not keep the process alive.
 * Not @herald/runtime's: global setup runs without Jest's module mapping, where a
 * workspace package resolves to its dist/, which a fresh clone does not have.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The message on one line, for the setup summary and marker files. */
export function oneLine(error: unknown): string {
  return errorMessage(error).replace(/\s+/g, ' ').trim();
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  // a regex, not new URL(): mongodb://h1:1,h2:2 (a replica set seed list) is no WHATWG URL
  return url.replace(/(\/\/[^:/@]+:)[^@/]*@/, '$1***@');
}

/** What global-teardown must stop; globalSetup and globalTeardown run in the same process. */
export interface TestInfrastructure {
  started: Provided[];
  originalEnv: { MONGO_URL: string | undefined; AMQP_URL: string | undefined };
}

const INFRA_KEY = '__heraldTestInfrastructure';
type WithInfra = typeof globalThis & { [INFRA_KEY]?: TestInfrastructure };

export function rememberInfrastructure(infra: TestInfrastructure): void {
  (globalThis as WithInfra)[INFRA_KEY] = infra;
}

export function takeInfrastructure(): TestInfrastructure | undefined {
  const holder = globalThis as WithInfra;
  const infra = holder[INFRA_KEY];
  delete holder[INFRA_KEY];
  return infra;
}
