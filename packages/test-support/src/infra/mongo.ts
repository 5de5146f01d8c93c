import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import mongoose from 'mongoose';
import type * as LocalInfra from '@herald/local-infra';
import { loadTestcontainers } from './docker';
import { errorMessage, noop, oneLine, redactUrl, withTimeout, type Provided } from './started';

const MEMORY_SERVER_TIMEOUT_MS = 15_000;
/** How long a failed mongod download is remembered (see memoryServerMarker). */
const MEMORY_SERVER_MARKER_TTL_MS = 24 * 60 * 60_000;
/** gitignored (packages/test-support/.gitignore) */
const MEMORY_SERVER_MARKER = resolve(__dirname, '../../.cache/mongodb-memory-server-unavailable.json');

/**
 * mongo-java-server's launcher from @herald/local-infra. Jest runs global
 * setup under Node's own module resolution, without the moduleNameMapper that
 * maps workspace packages to their sources, and a fresh clone has no dist/:
 * from source (under Jest's transform) load local-infra's source module,
 * which imports only Node's own modules; from a build, the package itself.
 */
function startMongoJavaServer(): Promise<Provided> {
  const entry = __filename.endsWith('.ts')
    ? join(dirname(require.resolve('@herald/local-infra/package.json')), 'src/mongo-java-server.ts')
    : '@herald/local-infra';
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path chosen at run time (above)
  const localInfra = require(entry) as typeof LocalInfra;
  return localInfra.startMongoJavaServer();
}

/** Connects, pings and reports the server version; throws if nothing speaking MongoDB answers. */
export async function pingMongo(url: string, timeoutMs = 10_000): Promise<string> {
  const connection = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
  });
  try {
    await connection.asPromise();
    const admin = connection.db!.admin();
    await admin.ping();
    const info = await admin.buildInfo();
    return String(info.version);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function startMongoContainer(): Promise<Provided> {
  const { GenericContainer, Wait } = await loadTestcontainers();
  const container = await new GenericContainer('mongo:7')
    .withExposedPorts(27017)
    .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
    .start();
  return {
    url: `mongodb://${container.getHost()}:${container.getMappedPort(27017)}`,
    label: 'Testcontainers mongo:7',
    stop: async () => {
      await container.stop();
    },
  };
}

/** The MONGOMS_* settings decide how a mongod is found or fetched; a marker only holds for the same ones. */
function memoryServerConfig(): string {
  const entries = Object.entries(process.env).filter(([key]) => key.startsWith('MONGOMS_'));
  return JSON.stringify(Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b))));
}

/**
 * Offline, mongodb-memory-server spends ~8 s failing to download mongod on
 * every run. When no binary is on disk and a download failed in the last
 * 24 h with the same MONGOMS_* settings, skip the attempt; deleting the
 * marker (or changing a MONGOMS_* variable) makes the next run try again.
 */
function memoryServerMarker(): string | undefined {
  if (!existsSync(MEMORY_SERVER_MARKER)) return undefined;
  try {
    const marker = JSON.parse(readFileSync(MEMORY_SERVER_MARKER, 'utf8')) as {
      failedAt: string;
      config: string;
      reason: string;
    };
    const ageMs = Date.now() - Date.parse(marker.failedAt);
    if (marker.config !== memoryServerConfig() || !(ageMs < MEMORY_SERVER_MARKER_TTL_MS)) return undefined;
    const age =
      ageMs < 3_600_000 ? `${Math.round(ageMs / 60_000)} min` : `${Math.round(ageMs / 3_600_000)} h`;
    return `no mongod on disk and its download failed ${age} ago (retried after 24 h, or delete ${relative(process.cwd(), MEMORY_SERVER_MARKER)})`;
  } catch {
    return undefined;
  }
}

function rememberMemoryServerFailure(reason: string): void {
  mkdirSync(dirname(MEMORY_SERVER_MARKER), { recursive: true });
  const marker = { failedAt: new Date().toISOString(), config: memoryServerConfig(), reason };
  writeFileSync(MEMORY_SERVER_MARKER, `${JSON.stringify(marker, null, 2)}\n`);
}

async function startMemoryServer(notes: string[]): Promise<Provided | undefined> {
  const { DryMongoBinary, MongoBinary, MongoMemoryServer } = await import('mongodb-memory-server-core');
  let binary: string | undefined;
  try {
    binary = await DryMongoBinary.locateBinary(DryMongoBinary.getEnsuredOptions());
  } catch (error) {
    // e.g. MONGOMS_SYSTEM_BINARY names a missing file: say so rather than download instead
    notes.push(`mongodb-memory-server: ${oneLine(error)}`);
    return undefined;
  }

  if (!binary) {
    const skipReason = memoryServerMarker();
    if (skipReason) {
      notes.push(`mongodb-memory-server skipped: ${skipReason}`);
      return undefined;
    }
    try {
      // A download that outlives the timeout still completes and fills the cache for the next run.
      binary = await withTimeout(
        MongoBinary.getPath(),
        MEMORY_SERVER_TIMEOUT_MS,
        `mongod download not done within ${MEMORY_SERVER_TIMEOUT_MS / 1000} s`,
      );
    } catch (error) {
      rememberMemoryServerFailure(oneLine(error));
      notes.push(`mongodb-memory-server: no mongod on disk and its download failed: ${oneLine(error)}`);
      return undefined;
    }
  }

  const starting = MongoMemoryServer.create();
  try {
    const server = await withTimeout(
      starting,
      MEMORY_SERVER_TIMEOUT_MS,
      `mongod not started within ${MEMORY_SERVER_TIMEOUT_MS / 1000} s`,
    );
    return {
      url: server.getUri(),
      label: `mongodb-memory-server (${binary})`,
      stop: async () => {
        await server.stop();
      },
    };
  } catch (error) {
    // if it starts after all, stop it
    starting.then((late) => late.stop()).catch(() => undefined);
    notes.push(`mongodb-memory-server failed to start ${binary}: ${oneLine(error)}`);
    return undefined;
  }
}

/**
 * MongoDB for the test run, in the order DESIGN.md gives: MONGO_URL →
 * Testcontainers (only when a Docker engine answers) → mongodb-memory-server
 * → mongo-java-server via Maven + Java. `notes` collects why earlier options
 * were passed over, for the summary and for the error when nothing works.
 */
export async function provideMongo(dockerEndpoint: string | undefined, notes: string[]): Promise<Provided> {
  const fromEnv = process.env.MONGO_URL;
  if (fromEnv) {
    try {
      const version = await pingMongo(fromEnv);
      return { url: fromEnv, label: `MONGO_URL ${redactUrl(fromEnv)} (MongoDB ${version})`, stop: noop };
    } catch (error) {
      throw new Error(
        `MONGO_URL is set to ${redactUrl(fromEnv)} but no MongoDB answers there: ${errorMessage(error)}. ` +
          'Start that MongoDB, or unset MONGO_URL to let the tests start one.',
      );
    }
  }

  const candidates: Array<[string, () => Promise<Provided | undefined>]> = [];
  if (dockerEndpoint) candidates.push(['Testcontainers mongo:7', startMongoContainer]);
  else notes.push('Testcontainers skipped: no Docker engine answers');
  candidates.push(['mongodb-memory-server', () => startMemoryServer(notes)]);
  candidates.push(['mongo-java-server', startMongoJavaServer]);

  for (const [name, start] of candidates) {
    let provided: Provided | undefined;
    try {
      provided = await start();
    } catch (error) {
      notes.push(`${name} failed: ${errorMessage(error)}`);
      continue;
    }
    if (!provided) continue;
    try {
      const version = await pingMongo(provided.url);
      return { ...provided, label: `${provided.label}, MongoDB ${version}` };
    } catch (error) {
      notes.push(`${name} started but does not answer a ping: ${errorMessage(error)}`);
      await provided.stop().catch(() => undefined);
    }
  }
  throw new Error(
    'No MongoDB for the tests. Tried, in order:\n' +
      notes.map((note) => `  - ${note}`).join('\n') +
      '\nFix one of: set MONGO_URL to a running MongoDB; start a Docker engine; ' +
      'set MONGOMS_SYSTEM_BINARY to a mongod binary; or install a JDK >= 17 and Maven 3 with access to Maven Central.',
  );
}
