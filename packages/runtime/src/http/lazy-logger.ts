import { type FastifyBaseLogger } from 'fastify';
import { type Bindings, type ChildLoggerOptions, type Level } from 'pino';

interface PinoLevels {
  isLevelEnabled(level: string): boolean;
  levels: { values: Record<string, number> };
}

/**
 * A request's logger that becomes a real pino child (with the request id
 * bound) only when something is logged at an enabled level. Fastify makes one
 * child per request; pino's child() costs about 2 % of a service's CPU at
 * thousands of requests a second, while at the production level (warn) most
 * requests never log a line.
 */
export class LazyRequestLogger {
  private real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions | undefined,
  ) {}

  get level(): string {
    return this.target().level;
  }

  set level(level: string) {
    this.target().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.target().child(bindings, options);
  }

  private target(): FastifyBaseLogger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.real && !this.enabled(level)) return;
    (this.target()[level] as (...a: unknown[]) => void)(...args);
  }

  /** What the child would write: the route's own level (Fastify's `logLevel`) or else the parent's. */
  private enabled(level: Level): boolean {
    const parent = this.parent as unknown as PinoLevels;
    const own = this.options?.level;
    if (!own) return parent.isLevelEnabled(level);
    const values = parent.levels.values;
    return own !== 'silent' && (values[level] ?? 0) >= (values[own] ?? Infinity);
  }
}

/** Fastify's `childLoggerFactory`: one lazy child per request. */
export function lazyChildLogger(
  this: unknown,
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
