// What a local run keeps in its data directory (.data/ by default, which git
// ignores): the generated local admin and demo credentials, auth's signing
// key, and where the running stack listens, so `pnpm seed` in another
// terminal finds it. Files holding secrets are readable by their owner only.
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Credentials {
  email: string;
  password: string;
}

export interface LocalCredentials {
  /** auth's first admin, unless ADMIN_EMAIL / ADMIN_PASSWORD are set */
  admin: Credentials;
  /** the ordinary user `pnpm seed` creates */
  demo: Credentials;
}

/** Where a running stack listens; written once it is ready, removed when it stops. */
export interface RunningStack {
  pid: number;
  startedAt: string;
  gatewayUrl: string | undefined;
  serviceUrls: Record<string, string>;
  /** the fake Mailgun's base URL, when the stack runs the fake providers (its control API is under /__fake/) */
  mailgunUrl: string | undefined;
  /** who auth's first admin is: the local one, or ADMIN_EMAIL's */
  adminEmail: string;
}

// example.com is reserved (RFC 2606): mail to it never reaches anyone, and auth accepts it.
const ADMIN_EMAIL = 'admin@example.com';
const DEMO_EMAIL = 'demo@example.com';

const credentialsFile = (dataDir: string) => join(dataDir, 'local-credentials.json');
const signingKeyFile = (dataDir: string) => join(dataDir, 'auth', 'jwt-private-key.pem');
const runningStackFile = (dataDir: string) => join(dataDir, 'stack.json');

/**
 * The local admin and demo credentials, generated on first use and the same
 * ever after: random passwords rather than defaults written in the repository,
 * and stable so the accounts stored in the persistent MongoDB keep working.
 */
export function localCredentials(dataDir: string): LocalCredentials {
  return readOrCreate(
    credentialsFile(dataDir),
    () =>
      JSON.stringify(
        {
          admin: { email: ADMIN_EMAIL, password: randomPassword() },
          demo: { email: DEMO_EMAIL, password: randomPassword() },
        },
        null,
        2,
      ),
    (text) => JSON.parse(text) as LocalCredentials,
  );
}

/**
 * A PEM private key for auth (JWT_PRIVATE_KEYS), generated once: with the
 * data kept across restarts, sessions and access tokens should be too.
 */
export function localSigningKey(dataDir: string): string {
  return readOrCreate(
    signingKeyFile(dataDir),
    () =>
      generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    (text) => text,
  );
}

export function writeRunningStack(dataDir: string, stack: RunningStack): void {
  const file = runningStackFile(dataDir);
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file); // a reader never sees half a file
}

/** The stack recorded in `dataDir`, if one is recorded and its process still lives. */
export function readRunningStack(dataDir: string): RunningStack | undefined {
  let stack: RunningStack;
  try {
    stack = JSON.parse(readFileSync(runningStackFile(dataDir), 'utf8')) as RunningStack;
  } catch {
    return undefined;
  }
  return isAlive(stack.pid) ? stack : undefined;
}

/** Removes the record if it is this process's (a later run in the same directory may have replaced it). */
export function removeRunningStack(dataDir: string, pid = process.pid): void {
  try {
    const recorded = JSON.parse(readFileSync(runningStackFile(dataDir), 'utf8')) as RunningStack;
    if (recorded.pid === pid) rmSync(runningStackFile(dataDir), { force: true });
  } catch {
    // nothing recorded
  }
}

function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Reads `file`, or creates it with `create()` when missing; `wx` keeps a racing second run from overwriting it. */
function readOrCreate<T>(file: string, create: () => string, parse: (text: string) => T): T {
  try {
    return parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, create(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return parse(readFileSync(file, 'utf8'));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
