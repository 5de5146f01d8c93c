import { settleWithin, type Logger } from '@herald/runtime';

/**
 * Work a request starts and does not wait for (publishing after the
 * response, a broadcast's fan-out). Tracked so shutdown can wait for it;
 * whatever does not finish is picked up again by the outbox relay.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  /**
   * Starts `task` on the next turn of the event loop, not now: whatever the caller does next
   * (answering its request: serializing and writing the 202) goes first, and the task's own
   * synchronous work (building and encoding messages, writing them to the broker's socket) no
   * longer sits between the request's last write and its answer. Tracked from this call on, so
   * shutdown waits for a task not yet started too.
   */
  run(name: string, task: () => Promise<unknown>): void {
    const work = new Promise<void>((resolve) => setImmediate(resolve)).then(task).then(
      () => undefined,
      (error: unknown) => this.log.error({ err: error, task: name }, 'background task failed'),
    );
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  /** Waits for the running tasks, at most `timeoutMs`; what is left over the relay picks up later. */
  async drain(timeoutMs: number): Promise<void> {
    await settleWithin(Promise.allSettled([...this.running]), timeoutMs, undefined);
  }
}
