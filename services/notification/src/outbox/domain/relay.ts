import { type ServiceContext } from '../../kernel/context';
import { relayOutbox } from './outbox';

export type RelayPass = (ctx: ServiceContext) => Promise<unknown>;

/**
 * Runs the relay's passes on start and then every interval, one pass at a
 * time (the next is scheduled when the previous ends, so a slow broker
 * never stacks passes). Safe on any number of instances: each pass claims
 * documents atomically, there is no global lock.
 *
 * Two cadences: the outbox passes every `relayIntervalMs` (what they
 * publish waits for them), the resume passes (fan-outs a stopped instance
 * left unfinished, scheduled topic sends now due, template changes to
 * announce) every `relayResumeIntervalMs`, counted in ticks: they find
 * nothing almost always, and at every tick they were most of an idle
 * instance's database commands.
 */
export class Relay {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;
  private tick = 0;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly passes: RelayPass[] = [relayOutbox],
    private readonly resumePasses: RelayPass[] = [],
  ) {}

  start(): void {
    this.stopped = false;
    this.tick = 0;
    this.runPass();
  }

  /** Every pass now, both cadences: for tests and for the start-up catch-up. */
  async runOnce(): Promise<void> {
    await this.run([...this.passes, ...this.resumePasses]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  /** How many outbox ticks make one resume tick (at least one). */
  private get resumeEvery(): number {
    const { relayIntervalMs, relayResumeIntervalMs } = this.ctx.settings;
    return Math.max(1, Math.round(relayResumeIntervalMs / relayIntervalMs));
  }

  private async run(passes: readonly RelayPass[]): Promise<void> {
    for (const pass of passes) {
      try {
        await pass(this.ctx);
      } catch (error) {
        this.ctx.log.error({ err: error }, 'relay pass failed; retrying on the next tick');
      }
    }
  }

  private runPass(): void {
    if (this.stopped) return;
    // the first tick runs everything (what a stopped instance left, at once)
    const resume = this.tick % this.resumeEvery === 0;
    this.tick += 1;
    this.current = this.run(resume ? [...this.passes, ...this.resumePasses] : this.passes).finally(() => {
      this.current = undefined;
      if (!this.stopped) this.timer = setTimeout(() => this.runPass(), this.ctx.settings.relayIntervalMs);
    });
  }
}
