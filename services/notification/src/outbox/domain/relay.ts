import { type ServiceContext } from '../../kernel/context';
import { relayOutbox } from './outbox';

export type RelayPass = (ctx: ServiceContext) => Promise<unknown>;

/**
 * Runs the relay's passes on start and then every interval, one pass at a
 * time (the next is scheduled when the previous ends, so a slow broker
 * never stacks passes). Safe on any number of instances: each pass claims
 * documents atomically, there is no global lock.
 */
export class Relay {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly passes: RelayPass[] = [relayOutbox],
  ) {}

  start(): void {
    this.stopped = false;
    this.runPass();
  }

  /** One pass now, for tests and for the start-up catch-up. */
  async runOnce(): Promise<void> {
    for (const pass of this.passes) {
      try {
        await pass(this.ctx);
      } catch (error) {
        this.ctx.log.error({ err: error }, 'relay pass failed; retrying on the next tick');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private runPass(): void {
    if (this.stopped) return;
    this.current = this.runOnce().finally(() => {
      this.current = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.runPass(), this.ctx.settings.relayIntervalMs);
    });
  }
}
