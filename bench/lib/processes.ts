import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';

/** A process the bench started; every one is stopped at the end, whatever happens. */
export interface Service {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
}

const running = new Set<Service>();

/** Starts `node <args>` (stdout/stderr to <logDir>/<name>.log); the pid is the node process itself. */
export function startNode(name: string, args: string[], env: NodeJS.ProcessEnv, logDir: string, cwd?: string): Service {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (child.pid === undefined) throw new Error(`${name}: could not start`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const service: Service = { name, child, pid: child.pid, logFile, exited };
  running.add(service);
  void exited.then(() => running.delete(service));
  return service;
}

/** SIGTERM (graceful: --cpu-prof writes its profile then), SIGKILL after `graceMs`. */
export async function stop(service: Service, graceMs = 8000): Promise<void> {
  if (!running.has(service)) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), graceMs);
  await service.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => stop(s)));
}

/** Last resort on process exit: synchronous SIGKILL of whatever is still running. */
export function killAllNow(): void {
  for (const service of running) {
    try {
      service.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function assertAlive(service: Service): void {
  if (!running.has(service)) {
    let tail = '';
    try {
      tail = readFileSync(service.logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      // no log
    }
    throw new Error(`${service.name} exited unexpectedly; last lines of ${service.logFile}:\n${tail}`);
  }
}

/** Polls `url` until it answers (any HTTP status when `anyStatus`, else 2xx). */
export async function waitForHttp(url: string, service: Service, timeoutMs = 20_000, anyStatus = false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertAlive(service);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (anyStatus || res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${service.name}: ${url} did not answer within ${timeoutMs} ms (log: ${service.logFile})`);
    await sleep(100);
  }
}

// ---- /proc sampling -------------------------------------------------------------------------------------------

const CLOCK_TICKS = 100; // USER_HZ on Linux

function readRssKb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function readCpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** The current VmRSS of a process, MB (NaN when it is gone). */
export function currentRssMb(pid: number): number {
  const kb = readRssKb(pid);
  return kb === undefined ? Number.NaN : kb / 1024;
}

export interface ProcessUsage {
  /** RSS at the first sample, MB. */
  startRssMb: number;
  peakRssMb: number;
  /** CPU used over the window as a share of one core (100 = one core busy). */
  cpuPercent: number;
}

/** Busy and total jiffies of the whole machine (all CPUs), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busy, total: busy + idle! + iowait! };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** CPU ticks used so far, per pid, by every process whose command name starts with one of `names`. */
function ticksByCommand(names: string[]): Map<number, { name: string; ticks: number }> {
  const found = new Map<number, { name: string; ticks: number }>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return found;
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const name = names.find((n) => comm.startsWith(n));
      if (!name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      found.set(Number(pid), { name, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Ticks each named service used between two snapshots (processes started meanwhile count from zero). */
function ticksBetween(before: ReturnType<typeof ticksByCommand>, after: ReturnType<typeof ticksByCommand>, name: string): number {
  let total = 0;
  for (const [pid, { name: n, ticks }] of after) if (n === name) total += Math.max(0, ticks - (before.get(pid)?.ticks ?? 0));
  return total;
}

const SHARED_SERVICES = ['postgres', 'redis-server'];

/** Share of the machine's CPU (100 % = all cores) in use over `ms`: to wait for a quiet machine. */
export async function machineBusyPercent(ms = 1000): Promise<number> {
  const a = machineTicks();
  await sleep(ms);
  const b = machineTicks();
  return b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * 100 : 0;
}

export interface MachineUsage {
  /** Busy share of all cores, % (100 = every core busy). */
  busyPercent: number;
  /** CPU of Postgres and Redis over the window, % of one core. */
  postgresPercent: number;
  redisPercent: number;
  /** CPU of everything else (not the sampled processes, not Postgres/Redis), % of one core: noise. */
  otherPercent: number;
}

export interface UsageReport {
  byName: Record<string, ProcessUsage>;
  /** Peak of the sum of the RSS of the `totalOf` processes at the same instant, MB. */
  peakTotalRssMb: number;
  samples: number;
  machine: MachineUsage;
}

/**
 * Samples VmRSS (every `intervalMs`) and CPU time of the given processes until `finish()`; also takes a snapshot
 * on demand (`mark`) to record the RSS at a moment of interest (e.g. when all streams are open).
 */
export function sampleUsage(processes: Record<string, number>, totalOf: string[] = Object.keys(processes), intervalMs = 100) {
  const names = Object.keys(processes);
  const started = performance.now();
  const startTicks = Object.fromEntries(names.map((n) => [n, readCpuTicks(processes[n]!) ?? 0]));
  const startMachine = machineTicks();
  const startShared = ticksByCommand(SHARED_SERVICES);
  const usage: Record<string, ProcessUsage> = Object.fromEntries(
    names.map((n) => {
      const rss = (readRssKb(processes[n]!) ?? 0) / 1024;
      return [n, { startRssMb: rss, peakRssMb: rss, cpuPercent: 0 }];
    }),
  );
  let peakTotal = 0;
  let samples = 0;
  const marks: Record<string, Record<string, number>> = {};
  const markTimes: Record<string, number> = {};
  const take = () => {
    let total = 0;
    const now: Record<string, number> = {};
    for (const n of names) {
      const rss = (readRssKb(processes[n]!) ?? 0) / 1024;
      now[n] = rss;
      if (totalOf.includes(n)) total += rss;
      const u = usage[n]!;
      if (rss > u.peakRssMb) u.peakRssMb = rss;
    }
    if (total > peakTotal) peakTotal = total;
    samples++;
    return { ...now, total };
  };
  take();
  const timer = setInterval(take, intervalMs);
  let report: (UsageReport & { marks: typeof marks; markTimes: typeof markTimes }) | undefined;
  return {
    mark(label: string) {
      markTimes[label] = Date.now();
      marks[label] = take();
    },
    finish(): UsageReport & { marks: typeof marks; markTimes: typeof markTimes } {
      if (report) return report;
      clearInterval(timer);
      take();
      const seconds = (performance.now() - started) / 1000;
      const share = (ticks: number) => (seconds > 0 ? (ticks / CLOCK_TICKS / seconds) * 100 : 0);
      let ours = 0;
      for (const n of names) {
        const ticks = (readCpuTicks(processes[n]!) ?? 0) - startTicks[n]!;
        ours += ticks;
        usage[n]!.cpuPercent = share(ticks);
      }
      const endMachine = machineTicks();
      const endShared = ticksByCommand(SHARED_SERVICES);
      const pgTicks = ticksBetween(startShared, endShared, 'postgres');
      const redisTicks = ticksBetween(startShared, endShared, 'redis-server');
      const busyTicks = endMachine.busy - startMachine.busy;
      const machine: MachineUsage = {
        busyPercent: endMachine.total > startMachine.total ? (busyTicks / (endMachine.total - startMachine.total)) * 100 : 0,
        postgresPercent: share(pgTicks),
        redisPercent: share(redisTicks),
        otherPercent: share(Math.max(0, busyTicks - ours - pgTicks - redisTicks)),
      };
      report = { byName: usage, peakTotalRssMb: peakTotal, samples, marks, markTimes, machine };
      return report;
    },
  };
}
