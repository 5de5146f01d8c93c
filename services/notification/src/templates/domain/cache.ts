import { type TemplateContent } from './content';
import { type CompiledTemplate } from './compiled-template';

export interface TemplateLoader {
  /** the current version of a live template, content included; null if none (or deleted) */
  head(key: string): Promise<{ version: number; content: TemplateContent } | null>;
  /** one stored version; null if it does not exist */
  version(key: string, version: number): Promise<TemplateContent | null>;
}

export interface TemplateCacheOptions {
  loader: TemplateLoader;
  build: (key: string, version: number, content: TemplateContent) => CompiledTemplate;
  /** how long this instance trusts what it knows about a key's current version */
  ttlMs: number;
  /** compiled versions kept; the least recently used one goes first */
  maxVersions: number;
  now?: () => number;
}

/**
 * Keeps template lookups off MongoDB on the hot path. Two levels:
 * - which version is current, per key, for `ttlMs` (a few seconds): an
 *   edit on this instance is seen at once (it invalidates), an edit on
 *   another instance at the latest after the TTL. Unknown keys are
 *   remembered too, so a flood of sends naming a missing template does
 *   not reach the database either;
 * - compiled versions, by (key, version), with no expiry: a version never
 *   changes. Bounded, least recently used out.
 * Concurrent misses for the same key share one load.
 */
export class TemplateCache {
  private readonly heads = new Map<
    string,
    { version: number | null; expiresAt: number; generation: number }
  >();
  private readonly compiled = new Map<string, CompiledTemplate>();
  private readonly loading = new Map<string, Promise<CompiledTemplate | null>>();
  private readonly generations = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: TemplateCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The current version of `key`, compiled; null when there is no live template by that key. */
  async current(key: string): Promise<CompiledTemplate | null> {
    const head = this.heads.get(key);
    if (head && head.expiresAt > this.now()) {
      if (head.version === null) return null;
      const hit = this.take(key, head.version);
      if (hit) return hit;
    }
    return this.once(`head:${key}`, async () => {
      const generation = this.generations.get(key) ?? 0;
      const loaded = await this.options.loader.head(key);
      // An edit on this instance while we were reading: what we read may be older than it; do not keep it.
      if ((this.generations.get(key) ?? 0) === generation) {
        this.heads.set(key, {
          version: loaded?.version ?? null,
          expiresAt: this.now() + this.options.ttlMs,
          generation,
        });
      }
      if (!loaded) return null;
      return this.take(key, loaded.version) ?? this.put(key, loaded.version, loaded.content);
    });
  }

  /** A given version, compiled; null when it does not exist. */
  async atVersion(key: string, version: number): Promise<CompiledTemplate | null> {
    const hit = this.take(key, version);
    if (hit) return hit;
    return this.once(`version:${key}@${version}`, async () => {
      const content = await this.options.loader.version(key, version);
      return content ? (this.take(key, version) ?? this.put(key, version, content)) : null;
    });
  }

  /** After an edit or delete here: the next lookup reads the head again. */
  invalidate(key: string): void {
    this.heads.delete(key);
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1);
  }

  private take(key: string, version: number): CompiledTemplate | undefined {
    const id = `${key}@${version}`;
    const hit = this.compiled.get(id);
    if (hit) {
      this.compiled.delete(id);
      this.compiled.set(id, hit);
    }
    return hit;
  }

  private put(key: string, version: number, content: TemplateContent): CompiledTemplate {
    const compiled = this.options.build(key, version, content);
    this.compiled.set(`${key}@${version}`, compiled);
    while (this.compiled.size > this.options.maxVersions) {
      const [oldest, evicted] = this.compiled.entries().next().value as [string, CompiledTemplate];
      this.compiled.delete(oldest);
      evicted.release();
    }
    return compiled;
  }

  private once(id: string, load: () => Promise<CompiledTemplate | null>): Promise<CompiledTemplate | null> {
    const pending = this.loading.get(id);
    if (pending) return pending;
    const started = load().finally(() => this.loading.delete(id));
    this.loading.set(id, started);
    return started;
  }
}
