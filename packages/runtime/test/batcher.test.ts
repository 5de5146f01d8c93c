import { Batcher, type ItemOutcome } from '../src/batcher';

/** A write we finish by hand, to see what goes in which batch and when each caller hears back. */
function controlledWrite<T>() {
  const writes: {
    items: T[];
    finish: (outcomes: ItemOutcome<string>[]) => void;
    fail: (e: Error) => void;
  }[] = [];
  const write = (items: T[]) =>
    new Promise<ItemOutcome<string>[]>((resolve, reject) => {
      writes.push({ items, finish: resolve, fail: reject });
    });
  return { writes, write };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
const settled = async <R>(promise: Promise<R>) => {
  let state: 'pending' | { value: R } | { error: unknown } = 'pending';
  promise.then(
    (value) => (state = { value }),
    (error: unknown) => (state = { error }),
  );
  await tick();
  return () => state;
};

describe('Batcher (group commit of record writes)', () => {
  it('writes a lone item at once, and what arrives meanwhile together in the next write', async () => {
    const { writes, write } = controlledWrite<number>();
    const batcher = new Batcher(write, { maxBatch: 100, maxInFlight: 1 });

    const first = batcher.submit(1);
    await tick();
    expect(writes.map((w) => w.items)).toEqual([[1]]);

    const later = [2, 3, 4].map((item) => batcher.submit(item));
    await tick();
    expect(writes).toHaveLength(1); // the slot is taken: they wait

    writes[0]!.finish([{ ok: true, value: 'one' }]);
    await expect(first).resolves.toBe('one');
    await tick();
    expect(writes.map((w) => w.items)).toEqual([[1], [2, 3, 4]]);
    writes[1]!.finish([2, 3, 4].map((n) => ({ ok: true, value: `v${n}` })));
    await expect(Promise.all(later)).resolves.toEqual(['v2', 'v3', 'v4']);
    expect(batcher.size).toBe(0);
  });

  it('settles no caller before the write holding its item has answered', async () => {
    const { writes, write } = controlledWrite<number>();
    const batcher = new Batcher(write, { maxBatch: 100, maxInFlight: 1 });
    const state = await settled(batcher.submit(1));
    await tick();
    expect(writes).toHaveLength(1);
    expect(state()).toBe('pending');
    writes[0]!.finish([{ ok: true, value: 'done' }]);
    await tick();
    expect(state()).toEqual({ value: 'done' });
  });

  it("gives each caller its own item's outcome, and fails every item of a write that fails as a whole", async () => {
    const { writes, write } = controlledWrite<string>();
    const batcher = new Batcher(write, { maxBatch: 100, maxInFlight: 1 });
    const a = batcher.submit('a');
    const b = batcher.submit('b');
    await tick();
    const duplicate = new Error('E11000 duplicate key');
    writes[0]!.finish([
      { ok: true, value: 'A' },
      { ok: false, error: duplicate },
    ]);
    await expect(a).resolves.toBe('A');
    await expect(b).rejects.toBe(duplicate);

    const c = batcher.submit('c');
    const d = batcher.submit('d');
    await tick();
    writes[1]!.fail(new Error('connection reset'));
    await expect(c).rejects.toThrow('connection reset');
    await expect(d).rejects.toThrow('connection reset');

    // and the batcher goes on after a failed write
    const e = batcher.submit('e');
    await tick();
    writes[2]!.finish([{ ok: true, value: 'E' }]);
    await expect(e).resolves.toBe('E');
  });

  it('splits a backlog into writes of at most maxBatch, up to maxInFlight at once', async () => {
    const { writes, write } = controlledWrite<number>();
    const batcher = new Batcher(write, { maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5].map((item) => batcher.submit(item));
    await tick();
    expect(writes.map((w) => w.items)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    writes[0]!.finish([1, 2].map((n) => ({ ok: true, value: String(n) })));
    await tick();
    expect(writes.map((w) => w.items)).toEqual([[1, 2], [3, 4], [5]]);
    writes[1]!.finish([3, 4].map((n) => ({ ok: true, value: String(n) })));
    writes[2]!.finish([{ ok: true, value: '5' }]);
    await expect(Promise.all(all)).resolves.toEqual(['1', '2', '3', '4', '5']);
  });

  describe('with lingerMs (writes nobody waits on in a hurry)', () => {
    /** a clock moved by hand: the pending timer, and how long it was set for */
    function handTimers() {
      const pending = new Map<number, { callback: () => void; ms: number }>();
      let next = 0;
      return {
        pending,
        timers: {
          setTimeout: (callback: () => void, ms: number) => {
            pending.set(++next, { callback, ms });
            return next;
          },
          clearTimeout: (handle: unknown) => void pending.delete(handle as number),
        },
        /** runs out every pending timer */
        elapse() {
          const due = [...pending.values()];
          pending.clear();
          for (const timer of due) timer.callback();
        },
      };
    }

    /** a Batcher lingering on the hand clock, its writes finished by hand */
    function lingering(options: { maxBatch: number; maxInFlight: number; lingerMs: number }) {
      const { writes, write } = controlledWrite<number>();
      const clock = handTimers();
      return { writes, clock, batcher: new Batcher(write, { ...options, timers: clock.timers }) };
    }

    it('keeps the first item waiting lingerMs for company, then writes everything that came', async () => {
      const { writes, clock, batcher } = lingering({ maxBatch: 100, maxInFlight: 2, lingerMs: 100 });

      const all = [1, 2].map((item) => batcher.submit(item));
      await tick();
      expect(writes).toHaveLength(0);
      expect([...clock.pending.values()].map((timer) => timer.ms)).toEqual([100]); // one clock for the batch
      all.push(batcher.submit(3));
      await tick();
      expect(writes).toHaveLength(0);

      clock.elapse();
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1, 2, 3]]);
      writes[0]!.finish([1, 2, 3].map((n) => ({ ok: true, value: String(n) })));
      await expect(Promise.all(all)).resolves.toEqual(['1', '2', '3']);

      // the next item waits again
      const later = batcher.submit(4);
      await tick();
      expect(writes).toHaveLength(1);
      expect(clock.pending.size).toBe(1);
      clock.elapse();
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1, 2, 3], [4]]);
      writes[1]!.finish([{ ok: true, value: '4' }]);
      await expect(later).resolves.toBe('4');
      expect(batcher.size).toBe(0);
    });

    it('writes a full batch at once, and lets the rest wait out the clock', async () => {
      const { writes, clock, batcher } = lingering({ maxBatch: 2, maxInFlight: 2, lingerMs: 100 });
      const all = [1, 2, 3].map((item) => batcher.submit(item));
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1, 2]]);
      clock.elapse();
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1, 2], [3]]);
      writes[0]!.finish([1, 2].map((n) => ({ ok: true, value: String(n) })));
      writes[1]!.finish([{ ok: true, value: '3' }]);
      await expect(Promise.all(all)).resolves.toEqual(['1', '2', '3']);
      expect(clock.pending.size).toBe(0);
    });

    it('flush writes what lingers at once and resolves once it and the writes on their way have answered', async () => {
      const { writes, clock, batcher } = lingering({ maxBatch: 100, maxInFlight: 2, lingerMs: 100 });
      const first = batcher.submit(1);
      clock.elapse();
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1]]); // on its way
      const second = batcher.submit(2); // lingering
      await tick();
      expect(writes).toHaveLength(1);

      let flushed = false;
      const flushing = batcher.flush().then(() => (flushed = true));
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1], [2]]); // no wait for the clock
      expect(clock.pending.size).toBe(0);
      writes[1]!.finish([{ ok: true, value: '2' }]);
      await expect(second).resolves.toBe('2');
      await tick();
      expect(flushed).toBe(false); // the write of 1 has not answered yet
      writes[0]!.fail(new Error('down'));
      await expect(first).rejects.toThrow('down'); // its caller sees the failure; flush does not throw
      await flushing;
      expect(flushed).toBe(true);
      await batcher.flush(); // nothing waits: at once
    });

    it('holds what waited out the clock until a write slot frees, then writes it with what joined', async () => {
      const { writes, clock, batcher } = lingering({ maxBatch: 100, maxInFlight: 1, lingerMs: 50 });
      const first = batcher.submit(1);
      clock.elapse();
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1]]);

      const second = batcher.submit(2);
      clock.elapse(); // 2 has waited its time; the only slot is taken
      await tick();
      const third = batcher.submit(3); // joins what is ready to leave: no new clock
      await tick();
      expect(clock.pending.size).toBe(0);
      expect(writes).toHaveLength(1);

      writes[0]!.finish([{ ok: true, value: '1' }]);
      await expect(first).resolves.toBe('1');
      await tick();
      expect(writes.map((w) => w.items)).toEqual([[1], [2, 3]]);
      writes[1]!.finish([2, 3].map((n) => ({ ok: true, value: String(n) })));
      await expect(Promise.all([second, third])).resolves.toEqual(['2', '3']);
    });
  });
});
