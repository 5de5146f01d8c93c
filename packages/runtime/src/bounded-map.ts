/**
 * Makes room in a Map used as a bounded cache, whose insertion order is its
 * eviction order: when it holds `capacity` entries or more, drops its oldest
 * eighth (at least one) in one pass.
 *
 * Not one entry per insert: V8 leaves a deleted entry as a hole until it
 * rehashes the table, and every `keys().next()` walks past all the holes
 * before the first live entry. A full cache that drops its first entry on
 * each insert therefore pays for every entry it dropped since the last
 * rehash: 15 µs an insert at 10,000 entries, against 0.5 µs dropping an
 * eighth at a time (node 20, 200,000 inserts past full). A cache trimmed so
 * holds a few entries fewer than its capacity just after a trim.
 */
export function makeRoom<K, V>(map: Map<K, V>, capacity: number): void {
  if (map.size < capacity) return;
  let drop = Math.max(1, map.size - capacity + 1, Math.floor(capacity / 8));
  for (const key of map.keys()) {
    map.delete(key);
    drop -= 1;
    if (drop <= 0) break;
  }
}
