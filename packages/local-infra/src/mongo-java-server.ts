import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/**
 * de.bwaldvogel:mongo-java-server 1.47: on its H2 backend, the MongoDB of a
 * local run (`pnpm start`) that keeps its data in one file; in memory, the
 * benchmarks' MongoDB and the tests' MongoDB of last resort. Maven resolves
 * it from Maven Central once, Java runs it. See ../mongo-server/pom.xml and
 * the launcher next to it.
 *
 * This module imports nothing but Node's own: Jest's global setup loads it
 * from source, outside Jest's module mapping (see @herald/test-support).
 */
export const MONGO_SERVER_DIR = resolve(__dirname, '../mongo-server');
export const MONGO_SERVER_TARGET = join(MONGO_SERVER_DIR, 'target');

const CLASSPATH_FILE = join(MONGO_SERVER_TARGET, 'classpath.txt');
const CLASSES_DIR = join(MONGO_SERVER_TARGET, 'classes');
/** the launcher and the backend classes it starts (EmbeddedMongoServer and its neighbours) */
const JAVA_SOURCES = join(MONGO_SERVER_DIR, 'src/main/java');
const LAUNCHER_CLASS = join(CLASSES_DIR, 'herald/localinfra/EmbeddedMongoServer.class');
const SERVER_LOG = join(MONGO_SERVER_TARGET, 'mongo-server.log');

const MAVEN_TIMEOUT_MS = 5 * 60_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 5_000;
/** closing an H2 store writes what is left of the last second; never cut that short for a big store */
const H2_STOP_TIMEOUT_MS = 30_000;

const HOW_TO_FIX =
  'Install a JDK >= 17 and Maven 3 (Debian: apt-get install openjdk-17-jdk-headless maven) with access to Maven Central, ' +
  'or start a MongoDB yourself and set MONGO_URL (e.g. MONGO_URL=mongodb://127.0.0.1:27017).';

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function mtime(path: string): number {
  return statSync(path).mtimeMs;
}

/** the newest mtime of any file under `dir` (0 if it holds none) */
function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return Math.max(newest, newestMtime(path));
    return entry.isFile() ? Math.max(newest, mtime(path)) : newest;
  }, 0);
}

/**
 * The cached classpath, if it is still good: newer than the pom and every
 * Java source (an edit to any class of the launcher rebuilds), and every jar
 * it names still in the local Maven repository.
 */
function cachedClasspath(): string | undefined {
  if (!existsSync(CLASSPATH_FILE) || !existsSync(LAUNCHER_CLASS)) return undefined;
  const builtAt = Math.min(mtime(CLASSPATH_FILE), mtime(LAUNCHER_CLASS));
  if (builtAt < mtime(join(MONGO_SERVER_DIR, 'pom.xml')) || builtAt < newestMtime(JAVA_SOURCES))
    return undefined;
  const jars = readFileSync(CLASSPATH_FILE, 'utf8').trim();
  if (!jars || !jars.split(':').every((jar) => existsSync(jar))) return undefined;
  return `${CLASSES_DIR}:${jars}`;
}

/** Runs Maven once to resolve the server and compile the launcher; later runs read the cache. */
export function resolveClasspath(): { classpath: string; cached: boolean } {
  const cached = cachedClasspath();
  if (cached) return { classpath: cached, cached: true };

  // maven-dependency-plugin leaves the file alone when the classpath is unchanged, and then its old
  // mtime would fail the check above after every source edit: have it written anew
  rmSync(CLASSPATH_FILE, { force: true });
  const maven = spawnSync(
    'mvn',
    ['-q', '-B', 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${CLASSPATH_FILE}`],
    { cwd: MONGO_SERVER_DIR, encoding: 'utf8', timeout: MAVEN_TIMEOUT_MS },
  );
  if (maven.error || maven.status !== 0) {
    const output = `${maven.stdout ?? ''}${maven.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    const why = maven.error ? errorMessage(maven.error) : `exit code ${maven.status}`;
    throw new Error(`mvn failed in ${MONGO_SERVER_DIR} (${why}).\n${output}\n${HOW_TO_FIX}`);
  }
  const fresh = cachedClasspath();
  if (!fresh) throw new Error(`mvn succeeded but left no usable ${CLASSPATH_FILE}. ${HOW_TO_FIX}`);
  return { classpath: fresh, cached: false };
}

type JavaProcess = ChildProcessByStdio<Writable, Readable, null>;

/** Resolves with "host:port" once the launcher prints LISTENING; rejects if it exits or times out. */
function waitUntilListening(child: JavaProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      child.off('exit', onExit).off('error', onError);
      child.stdout.off('data', onData);
      outcome();
    };
    const onExit = (code: number | null, signal: string | null) =>
      finish(() =>
        reject(new Error(`mongo-java-server exited during start-up (code ${code}, signal ${signal})`)),
      );
    const onError = (error: Error) => finish(() => reject(new Error(`could not run java: ${error.message}`)));
    const onData = (chunk: string) => {
      stdout += chunk;
      const address = /^LISTENING (\S+)$/m.exec(stdout)?.[1];
      if (address) finish(() => resolvePromise(address));
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(new Error(`mongo-java-server did not start listening within ${START_TIMEOUT_MS / 1000} s`)),
        ),
      START_TIMEOUT_MS,
    );
    child.on('exit', onExit).on('error', onError);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
  });
}

function tailOfLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}

export interface MongoJavaServerOptions {
  /**
   * Keep the data in this H2 MVStore file (created with its directory when
   * missing) instead of in memory. One server at a time per file: a second
   * one fails to start because the file is locked.
   */
  h2File?: string;
  /** the server's own log; default mongo-server.log next to the H2 file, else under mongo-server/target */
  logFile?: string;
  /**
   * How the JVM is tuned (see JVM_FLAGS): 'long-running' by default with
   * `h2File` (what `pnpm start` runs for hours), 'short-lived' in memory
   * (tests and throwaway servers, which must start fast and stay small).
   */
  jvmProfile?: JvmProfile;
  /**
   * Tests only: open `h2File` with the library's own H2 backend, which
   * stores index keys as earlier versions of this launcher did, to check
   * that such a file still opens here.
   */
  libraryH2Backend?: boolean;
}

export type JvmProfile = 'short-lived' | 'long-running';

/**
 * The JVM flags of each profile.
 *
 * short-lived (test runs, a benchmark's scratch server): start in about a
 * second and leave the cores to the code under test. C1 only (no C2
 * compiler threads competing with the suites for the two cores; the run
 * ends before C2 would pay off), the serial collector (no GC threads) and a
 * 512 MB cap.
 *
 * long-running (`pnpm start`, hours of a local platform): the peak speed of
 * the steady state matters, not the first seconds.
 * - Tiered compilation up to C2 (the JVM default): the hot BSON, H2 and
 *   Netty paths get C2's inlining and escape analysis; the compiler's CPU is
 *   spent once, in the first minute or so.
 * - The parallel collector: the most throughput per CPU of HotSpot's
 *   collectors, with no concurrent threads and no write-barrier cost (G1
 *   has both, and on two cores shared with the services and the broker its
 *   concurrent work takes CPU from them). Its weakness, long full
 *   collections of a big old generation, does not arise: what lives long is
 *   H2's page cache, a few tens of MB; nearly everything else is per-request
 *   garbage that dies young, and a young collection stops for a few ms.
 * - A 1 GB cap over a 256 MB start: a young generation large enough that
 *   young collections are rare under load, without claiming a laptop's
 *   memory up front.
 * - No hsperfdata file: the JVM otherwise writes its counters to a memory-
 *   mapped file under /tmp, and a stalled disk write stalls a safepoint.
 * Measured with `BENCH_ONLY=inserts pnpm bench:gateway 10` (batched inserts
 * on an H2 file, on a busy 2-core machine): the server's CPU per 1,000
 * documents fell from 700–760 ms (short-lived) to 460–510 ms; G1 with C2
 * spent 590–995 ms. See ../README.md.
 */
/**
 * The server runs each command on its connection's Netty event-loop thread, blocking it: with
 * Netty's default (twice the cores: 4 here) a slow command (the outbox relay's read of a pass)
 * stalls every connection that shares its thread, inserts of the accept path among them. With 16
 * the services' connections rarely share one. `pnpm bench:latency 1000 10` alternating 16 and the
 * default: p99 29.3 / 39.8 / 29.0 ms against 36.1 / 52.6 / 40.8 / 42.7 (a fourth run of 16, 99.8,
 * had a p50 of 18 ms: the machine); accepted/s through the gateway unchanged within its noise.
 */
const WORKER_THREADS_PROPERTY = 'herald.mongo.workerThreads';

export const JVM_FLAGS: Record<JvmProfile, readonly string[]> = {
  'short-lived': ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xmx512m'],
  'long-running': [
    '-XX:+UseParallelGC',
    '-Xms256m',
    '-Xmx1g',
    '-XX:+PerfDisableSharedMem',
    // EmbeddedMongoServer: Netty event-loop threads, each running its connections' commands
    `-D${WORKER_THREADS_PROPERTY}=16`,
  ],
};

/**
 * Starts the server on a free port of 127.0.0.1. It runs until stop() or
 * until this process ends: the launcher exits when its stdin closes, so it
 * cannot outlive a killed test run (or a killed `pnpm start`).
 */
export interface EmbeddedMongo {
  /** mongodb://127.0.0.1:<port>, no database */
  url: string;
  /** one short phrase for logs, e.g. "mongo-java-server 1.47 in memory (pid 123, cached classpath)" */
  label: string;
  /** the Java process, e.g. to read its CPU time */
  pid: number;
  /** the JVM flags it runs with (JVM_FLAGS) */
  jvmProfile: JvmProfile;
  /** closes the server (for H2: after its last commit); safe to call twice */
  stop: () => Promise<void>;
}

export async function startMongoJavaServer(options: MongoJavaServerOptions = {}): Promise<EmbeddedMongo> {
  const { classpath, cached } = resolveClasspath();
  const h2File = options.h2File ? resolve(options.h2File) : undefined;
  const logFile = options.logFile ?? (h2File ? join(dirname(h2File), 'mongo-server.log') : SERVER_LOG);
  const jvmProfile = options.jvmProfile ?? (h2File ? 'long-running' : 'short-lived');
  mkdirSync(dirname(logFile), { recursive: true });
  const logFd = openSync(logFile, 'w');
  let child: JavaProcess;
  try {
    child = spawn(
      'java',
      [
        ...JVM_FLAGS[jvmProfile],
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        '-cp',
        classpath,
        'herald.localinfra.EmbeddedMongoServer',
        '0',
        ...(h2File ? ['--h2', h2File] : []),
        ...(h2File && options.libraryH2Backend ? ['--library-h2-backend'] : []),
      ],
      {
        cwd: MONGO_SERVER_DIR,
        stdio: ['pipe', 'pipe', logFd],
        // Its own process group: a Ctrl-C in the terminal must not stop the database before the
        // services using it have stopped; the stdin pipe (stop() or our death) stops it instead.
        detached: Boolean(h2File),
      },
    ) as JavaProcess; // stdin and stdout are pipes, as asked for
  } finally {
    closeSync(logFd); // the child holds its own copy
  }

  let address: string;
  try {
    address = await waitUntilListening(child);
  } catch (error) {
    child.kill('SIGKILL');
    const log = tailOfLog(logFile);
    throw new Error(`${errorMessage(error)}${log ? `\n${log}` : ''}\n(log: ${logFile}) ${HOW_TO_FIX}`);
  }
  // From here on nobody waits for its output or errors; a write to a closed stdin (EPIPE)
  // must not crash the parent (Jest, `pnpm start`), and the parent may exit without stop().
  child.on('error', () => undefined);
  child.stdin.on('error', () => undefined);
  child.stdout.resume();
  child.unref();
  (child.stdout as Readable & { unref?: () => void }).unref?.();
  (child.stdin as Writable & { unref?: () => void }).unref?.();

  const backend = h2File ? `H2 file ${h2File}` : 'in memory';
  return {
    url: `mongodb://${address}`,
    label: `mongo-java-server 1.47 ${backend} (pid ${child.pid}, ${jvmProfile} JVM, ${cached ? 'cached classpath' : 'resolved by Maven'})`,
    jvmProfile,
    pid: child.pid!,
    stop: () => stopJava(child, h2File ? H2_STOP_TIMEOUT_MS : STOP_TIMEOUT_MS),
  };
}

/** Closes the launcher's stdin (clean shutdown), then SIGKILLs it if it lingers. */
function stopJava(child: JavaProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref(); // start-up unref'd it; a stop must wait for the exit
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise();
    });
    child.stdin.end();
  });
}
