import closeWithGrace from 'close-with-grace';
import { type Logger } from './logger';

export interface Closable {
  close(): Promise<unknown>;
  beginShutdown?: () => void;
}

/**
 * Wires graceful shutdown for `server.ts`: on SIGTERM/SIGINT (or an uncaught
 * error) the app starts draining and `close()` runs every plugin's onClose
 * hook in reverse order — stop consuming, finish in-flight work, close
 * connections. If that takes longer than `timeoutMs` the process exits
 * anyway; unacked messages go back to the broker, so nothing is lost.
 */
export function closeOnSignals(app: Closable, logger: Logger, timeoutMs: number): void {
  closeWithGrace({ delay: timeoutMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down');
    else logger.info({ signal }, 'shutting down');
    app.beginShutdown?.();
    await app.close();
    logger.info('shut down cleanly');
  });
}

/**
 * The one way a service's `server.ts` runs its `main()`: a start-up failure
 * (bad config, a database that never answered, a port in use) is written to
 * stderr as one line naming the service, and the process exits 1 for the
 * supervisor; nothing is left half-started and silent.
 *
 *   runService('auth', main);
 */
export function runService(name: string, main: () => Promise<unknown>): void {
  main().catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${name} failed to start: ${reason}\n`);
    process.exit(1);
  });
}
