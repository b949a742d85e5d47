import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadMessage, LoadOutcome, LoadSpec } from '../load-worker.js';
import { sampleUsage, type UsageReport } from './processes.js';

const LOAD_WORKER = fileURLToPath(new URL('../load-worker.ts', import.meta.url));

export interface LoadRun<O extends LoadOutcome> {
  outcome: O;
  usage: UsageReport;
  /** RSS (MB) of each sampled process at the marks the load process sent (e.g. "all-open"). */
  marks: Record<string, Record<string, number>>;
  /** Wall-clock time (ms since epoch) of each mark. */
  markTimes: Record<string, number>;
}

/**
 * Runs one load spec in a separate process (tsx, same Node) while sampling the RSS and CPU of `sampled` (name →
 * pid) and of the load process itself ("load"). The load process is always gone when this returns.
 */
export async function runLoad<O extends LoadOutcome>(spec: LoadSpec, sampled: Record<string, number>, timeoutMs: number): Promise<LoadRun<O>> {
  const child = fork(LOAD_WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // "load" is sampled for its CPU share but left out of the RSS total, which is the servers' alone.
  const sampler = sampleUsage({ ...sampled, load: child.pid! }, Object.keys(sampled));
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await new Promise<O>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`load process did not finish within ${timeoutMs} ms`)), timeoutMs);
      child.on('message', (message: LoadMessage) => {
        if (message.type === 'mark') sampler.mark(message.label);
        else if (message.type === 'result') resolve(message.outcome as O);
        else reject(new Error(`load process failed: ${message.message}`));
      });
      child.once('exit', (code) => reject(new Error(`load process exited (${code}) without a result`)));
      child.send(spec);
    });
    const { marks, markTimes, ...usage } = sampler.finish();
    return { outcome, usage, marks, markTimes };
  } finally {
    clearTimeout(timer);
    sampler.finish();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
    await exited;
  }
}
