import { createRequire } from 'node:module';
import { type HttpApp } from '@herald/runtime';

// TODO(shared): have @herald/runtime re-export `Counter`, `Gauge` and `Histogram` from prom-client
// (it owns the dependency and the registry) and delete this file. Until then prom-client is
// loaded from where runtime resolves it, so both share one installed copy.
type Registry = HttpApp['metrics'];
type Labels = Record<string, string>;

interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  registers: Registry[];
}

export interface Counter {
  inc(labels?: Labels, value?: number): void;
}
export interface Gauge {
  set(value: number): void;
}
export interface Histogram {
  observe(labels: Labels, value: number): void;
}

interface PromClient {
  Counter: new (options: MetricOptions) => Counter;
  Gauge: new (options: MetricOptions & { collect?: (this: Gauge) => void }) => Gauge;
  Histogram: new (options: MetricOptions & { buckets: number[] }) => Histogram;
}

const requireFromRuntime = createRequire(require.resolve('@herald/runtime'));
export const promClient = requireFromRuntime('prom-client') as PromClient;
