/**
 * CPU time of processes from /proc (Linux): what a benchmark divides by the
 * work done to get CPU milliseconds per unit. /proc/<pid>/stat is readable
 * for any process, also one another user runs (the RabbitMQ broker runs as
 * `rabbitmq`); a process that is gone or not found is reported as such.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** clock ticks per second of utime/stime; 100 on every Linux we run on */
export const CLOCK_TICKS_PER_SECOND = (() => {
  const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(answer.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** the executable's name as the kernel keeps it (15 characters at most) */
  comm: string;
  /** user plus system CPU time so far, in clock ticks */
  ticks: number;
}

/** utime + stime of one process, or undefined if it is gone or unreadable */
export function readProcess(pid: number): ProcessInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
  return {
    pid,
    ppid: Number(fields[1]),
    comm,
    ticks: Number(fields[11]) + Number(fields[12]),
  };
}

/**
 * A JVM's CPU so far, in clock ticks: all of it, and its JIT compiler threads' (HotSpot names
 * them "C1 CompilerThread<n>" and "C2 CompilerThread<n>", 15 characters kept by the kernel).
 * Undefined when the process is gone.
 */
export function readJvmTicks(pid: number): { total: number; jit: number } | undefined {
  const total = readProcess(pid)?.ticks;
  if (total === undefined) return undefined;
  let jit = 0;
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const task of tasks) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const close = stat.lastIndexOf(')');
    if (!/^C[12] CompilerThre/.test(stat.slice(stat.indexOf('(') + 1, close))) continue;
    const fields = stat
      .slice(close + 2)
      .trim()
      .split(' ');
    jit += Number(fields[11]) + Number(fields[12]);
  }
  return { total, jit };
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function allProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(Number(entry));
    if (info) processes.push(info);
  }
  return processes;
}

/** the process and every descendant of it (nginx's master and its workers, say) */
export function withDescendants(pid: number, processes = allProcesses()): number[] {
  const found = [pid];
  for (let i = 0; i < found.length; i += 1) {
    for (const child of processes) if (child.ppid === found[i]) found.push(child.pid);
  }
  return found;
}

/** The RabbitMQ broker on this machine (the Erlang VM running `rabbit`), if there is one. */
export function findRabbitMq(processes = allProcesses()): number | undefined {
  return processes.find((p) => p.comm === 'beam.smp' && /\brabbit\b/.test(commandLine(p.pid)))?.pid;
}

/**
 * A named group of processes whose CPU time is measured over an interval.
 * `pids` is asked again at each reading, so workers that appear later count.
 */
export interface CpuSubject {
  name: string;
  pids: () => number[];
  /** why the group could not be measured, when it could not */
  missing?: string;
}

export interface CpuReading {
  at: number;
  ticks: Map<string, number | undefined>;
}

export function readCpu(subjects: CpuSubject[]): CpuReading {
  const ticks = new Map<string, number | undefined>();
  for (const subject of subjects) {
    if (subject.missing) {
      ticks.set(subject.name, undefined);
      continue;
    }
    const infos = subject.pids().map((pid) => readProcess(pid));
    ticks.set(
      subject.name,
      infos.length && infos.every(Boolean) ? infos.reduce((sum, info) => sum + info!.ticks, 0) : undefined,
    );
  }
  return { at: performance.now(), ticks };
}

/** CPU milliseconds each subject spent between two readings, per `units` (undefined: not measured) */
export function cpuMsPer(
  before: CpuReading,
  after: CpuReading,
  units: number,
): Record<string, number | undefined> {
  const result: Record<string, number | undefined> = {};
  for (const [name, start] of before.ticks) {
    const end = after.ticks.get(name);
    result[name] =
      start === undefined || end === undefined || units <= 0
        ? undefined
        : Number(((((end - start) / CLOCK_TICKS_PER_SECOND) * 1000) / units).toFixed(3));
  }
  return result;
}

/**
 * The machine's CPU time so far from /proc/stat, in clock ticks: all of it, and the part the
 * hypervisor gave to other guests (steal) while this one wanted to run. A phase with much
 * steal measured a machine that was not all there.
 */
export function readMachineTicks(): { total: number; steal: number; idle: number } | undefined {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  } catch {
    return undefined;
  }
  if (!line?.startsWith('cpu ')) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return {
    total: fields.reduce((sum, value) => sum + value, 0),
    steal: fields[7] ?? 0,
    idle: (fields[3] ?? 0) + (fields[4] ?? 0),
  };
}

/**
 * Waits until the machine is quiet: less than `busyShare` of its CPU busy over a second (what
 * an earlier phase left running, a JVM collecting, a stack still stopping), for at most
 * `maxSeconds`. Returns the seconds waited, and the last second's busy share.
 */
export async function whenQuiet(
  busyShare = 0.15,
  maxSeconds = 30,
): Promise<{ waitedSeconds: number; busy: number | undefined }> {
  const started = Date.now();
  let busy: number | undefined;
  for (;;) {
    const before = readMachineTicks();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = readMachineTicks();
    busy =
      before && after && after.total > before.total
        ? 1 - (after.idle - before.idle) / (after.total - before.total)
        : undefined;
    const waitedSeconds = Math.round((Date.now() - started) / 1000);
    if (busy === undefined || busy < busyShare || waitedSeconds >= maxSeconds) {
      return { waitedSeconds, busy: busy === undefined ? undefined : Number(busy.toFixed(2)) };
    }
  }
}

/** The share of the machine's CPU time stolen between two readings (undefined if unreadable). */
export function stealShare(
  before: ReturnType<typeof readMachineTicks>,
  after: ReturnType<typeof readMachineTicks>,
): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  return Number(((after.steal - before.steal) / (after.total - before.total)).toFixed(3));
}
