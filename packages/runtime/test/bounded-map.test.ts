import { makeRoom } from '../src/bounded-map';

describe('makeRoom', () => {
  const filled = (count: number) =>
    new Map(Array.from({ length: count }, (_, index) => [index, `v${index}`]));

  it('leaves a map below its capacity alone', () => {
    const map = filled(15);
    makeRoom(map, 16);
    expect([...map.keys()]).toEqual(Array.from({ length: 15 }, (_, index) => index));
  });

  it('drops the oldest eighth of a full map, in insertion order', () => {
    const map = filled(16);
    makeRoom(map, 16);
    expect([...map.keys()]).toEqual(Array.from({ length: 14 }, (_, index) => index + 2));
  });

  it('drops at least one, and enough to leave room for one more when over capacity', () => {
    const small = filled(3);
    makeRoom(small, 3);
    expect([...small.keys()]).toEqual([1, 2]);
    const over = filled(20); // a capacity lowered under an existing cache
    makeRoom(over, 10);
    expect(over.size).toBe(9);
    expect([...over.keys()][0]).toBe(11);
  });

  it('keeps a cache within its capacity insert after insert', () => {
    const map = new Map<number, number>();
    for (let key = 0; key < 1_000; key += 1) {
      makeRoom(map, 100);
      map.set(key, key);
      expect(map.size).toBeLessThanOrEqual(100);
    }
    expect(map.has(999)).toBe(true);
    expect(map.has(0)).toBe(false);
  });
});
