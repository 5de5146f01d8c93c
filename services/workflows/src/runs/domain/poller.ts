import { randomUUID } from 'node:crypto';
import { type ServiceContext } from '../../kernel/context';
import { type RunRecord } from '../data/run-model';
import { relayRunChanges } from './announcements';
import { advanceRun, claimRun } from './engine';

/**
 * The timer: every interval, claims the runs whose `wakeAt` has come (up to
 * `WORKFLOW_BATCH_SIZE`, each under a lease) and advances them. The time a
 * run waits for is judged on the injected clock; the interval is only how
 * often this instance looks. Safe on any number of instances: each claim is
 * one atomic write, and a claim lapses with the process that held it.
 * Each pass then relays the runs' pending status changes
 * (`workflow.run.changed`, `announcements.ts`).
 */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly ctx: ServiceContext) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /**
   * One pass now: for tests (after moving the clock) and the start-up
   * catch-up. Advances the due runs, then announces pending run changes.
   * Returns the runs advanced.
   */
  async runOnce(): Promise<number> {
    const advanced = await this.advanceDue();
    await relayRunChanges(this.ctx);
    return advanced;
  }

  private async advanceDue(): Promise<number> {
    const owner = randomUUID();
    const claimed: RunRecord[] = [];
    while (claimed.length < this.ctx.settings.batchSize) {
      const run = await claimRun(this.ctx, owner);
      if (!run) break;
      claimed.push(run);
    }
    const results = await Promise.allSettled(claimed.map((run) => advanceRun(this.ctx, run, owner)));
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        // the lease lapses and a later pass tries the step again
        this.ctx.log.error({ err: result.reason, runId: claimed[index]!._id }, 'advancing a run failed');
      }
    });
    return claimed.length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private tick(): void {
    if (this.stopped) return;
    this.current = this.runOnce()
      .then(
        () => undefined,
        (error: unknown) =>
          this.ctx.log.error({ err: error }, 'poller pass failed; retrying on the next tick'),
      )
      .finally(() => {
        this.current = undefined;
        if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.ctx.settings.pollIntervalMs);
      });
  }
}
