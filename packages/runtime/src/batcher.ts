/** What one item of a batch came to: its result, or the error that item alone met. */
export type ItemOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions {
  /** items per operation, at most */
  maxBatch: number;
  /** operations on their way at once; more items wait and go together in the next one */
  maxInFlight: number;
  /**
   * How long the first item of a batch waits for company before it leaves (a full batch leaves
   * at once). 0, the default: it leaves on the next turn of the event loop. Only for writes nobody
   * waits on in a hurry: under moderate load each item would otherwise be a write of its own.
   */
  lingerMs?: number;
  /** the timer behind lingerMs (a test's fake clock) */
  timers?: LingerTimers;
}

export interface LingerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: LingerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Waiting<T, R> {
  item: T;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
  /** settles with the caller's promise, never rejects (what flush waits on) */
  settled: Promise<void>;
}

/**
 * Group commit for one kind of write, or one query for many lookups. Under
 * load, each request's or send's write (or read by key) would be one MongoDB
 * round trip apiece, and one command for the server to run; here whatever
 * arrives while earlier ones are on their way leaves together in the next.
 * Nothing waits on a timer unless asked to (lingerMs): an item that finds a
 * slot free leaves on the next turn of the event loop, so a lone caller is not
 * slowed, and batches grow only when the database is the bottleneck. With
 * lingerMs, the first item waits that long for others, and what waits leaves
 * together once it has (or once a batch is full).
 *
 * Each caller's promise settles only when the operation holding its item has
 * been acknowledged (or has failed): batching changes how many round trips,
 * never what a resolved promise means.
 */
export class Batcher<T, R> {
  private waiting: Waiting<T, R>[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** the writes on their way (each settles its items before it ends) */
  private readonly writing = new Set<Promise<void>>();
  /** what waits has waited lingerMs (always, without a linger) */
  private ripe: boolean;
  private lingering: unknown;
  private readonly timers: LingerTimers;

  constructor(
    /** writes the items in one go; a throw fails every item of the batch */
    private readonly write: (items: T[]) => Promise<ItemOutcome<R>[]>,
    private readonly options: BatcherOptions,
  ) {
    this.ripe = !options.lingerMs;
    this.timers = options.timers ?? realTimers;
  }

  submit(item: T): Promise<R> {
    let resolve!: (value: R) => void;
    let reject!: (error: unknown) => void;
    const result = new Promise<R>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.waiting.push({ item, resolve, reject, settled });
    this.schedule();
    return result;
  }

  /**
   * Writes what waits now without waiting out its linger, and resolves once every item submitted
   * before the call has settled (its write answered or failed; a failure is its caller's to see).
   * For a reader that must find what was submitted: the outbox relay, before it reads the
   * confirmation log.
   */
  async flush(): Promise<void> {
    if (this.waiting.length > 0 && !this.ripe) {
      this.stopLingering();
      this.ripe = true;
      this.startWrites();
    }
    await Promise.all([...this.writing, ...this.waiting.map((entry) => entry.settled)]);
  }

  /** Items waiting or being written; 0 when every caller has its answer. */
  get size(): number {
    return this.waiting.length + this.inFlight;
  }

  private schedule(): void {
    if (!this.ripe && this.waiting.length < this.options.maxBatch) {
      this.linger();
      return;
    }
    if (this.scheduled || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // setImmediate, not a microtask: the items that the same burst of socket reads produces join in.
    setImmediate(() => {
      this.scheduled = false;
      this.startWrites();
    });
  }

  /** The first item to wait starts the clock; when it runs out, everything waiting may leave. */
  private linger(): void {
    if (this.lingering !== undefined) return;
    this.lingering = this.timers.setTimeout(() => {
      this.lingering = undefined;
      this.ripe = true;
      this.startWrites();
    }, this.options.lingerMs!);
  }

  private startWrites(): void {
    while (
      this.inFlight < this.options.maxInFlight &&
      this.waiting.length > 0 &&
      (this.ripe || this.waiting.length >= this.options.maxBatch)
    ) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      const write = this.run(batch);
      this.writing.add(write);
      void write.then(() => this.writing.delete(write));
    }
    if (this.options.lingerMs && this.waiting.length === 0) {
      // the next item waits for company again
      this.ripe = false;
      this.stopLingering();
    }
  }

  private stopLingering(): void {
    if (this.lingering === undefined) return;
    this.timers.clearTimeout(this.lingering);
    this.lingering = undefined;
  }

  private async run(batch: Waiting<T, R>[]): Promise<void> {
    try {
      const outcomes = await this.write(batch.map((entry) => entry.item));
      batch.forEach((entry, index) => {
        const outcome = outcomes[index];
        if (!outcome) entry.reject(new Error('the batch write gave no outcome for this item'));
        else if (outcome.ok) entry.resolve(outcome.value);
        else entry.reject(outcome.error);
      });
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.inFlight -= 1;
      // what arrived meanwhile has waited a whole write already: it leaves now
      this.startWrites();
    }
  }
}
