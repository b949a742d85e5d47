// Child processes owned by a reliability test: real API and worker processes, and a Redis server of the test's own.
// Every child is registered so it is SIGKILLed when the test process exits, whatever happened (self-cleaning).
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort } from '@gemini-chat/testkit';

const ROOT = new URL('../../../', import.meta.url);
export const REPO_ROOT = fileURLToPath(ROOT);
export const API_SERVER = fileURLToPath(new URL('packages/api/src/server.ts', ROOT));
export const WORKER_MAIN = fileURLToPath(new URL('packages/worker/src/main.ts', ROOT));

const live = new Set<ChildProcess>();
const killAll = () => {
  for (const child of live) child.kill('SIGKILL');
};
process.once('exit', killAll);
// A test process ended by a signal (e.g. a run interrupted, or a hook timing out) skips 'exit' handlers: kill the
// children first, then let the signal do what it would have done.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Child {
  name: string;
  process: ChildProcess;
  /** The last 20 kB of stdout and stderr, for failure messages. */
  output(): string;
  /** Resolves when the process has exited (at once if it already has). */
  exited(): Promise<void>;
  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still there. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export function spawnChild(name: string, command: string, args: string[], env: Record<string, string | undefined>): Child {
  const proc = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exit = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exit.then(() => live.delete(proc));
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  return {
    name,
    process: proc,
    output: () => output,
    exited: () => (gone() ? Promise.resolve() : exit),
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 12_000) {
      if (gone()) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** A TypeScript entry point run as operators run it (node + tsx), with exactly the environment given. */
export function spawnNode(name: string, entry: string, env: Record<string, string>): Child {
  return spawnChild(name, process.execPath, ['--import', 'tsx', entry], { PATH: process.env.PATH, HOME: process.env.HOME, ...env });
}

/** Polls `url` until it answers 200, or fails with the child's output after `timeoutMs`. */
export async function waitForHttp(url: string, child: Child | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.process.exitCode !== null) throw new Error(`${child.name} exited (${child.process.exitCode}):\n${child.output()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not up after ${timeoutMs} ms${child ? `:\n${child.output()}` : ''}`);
    await sleep(50);
  }
}

/** True once a Redis server answers PING on this port. */
function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export interface OwnRedis {
  port: number;
  url: string;
  /** Whether the server process is running. */
  readonly running: boolean;
  start(): Promise<void>;
  /** SIGKILL, like a crash: nothing is saved (the server runs without persistence anyway). */
  kill(): Promise<void>;
}

/**
 * A Redis server of the test's own on a free loopback port, without persistence, so the test may crash and
 * restart it without touching the shared one. `kill()` then `start()` restarts it on the same port, empty.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: Child | undefined;
  const own: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return !!child && child.process.exitCode === null && child.process.signalCode === null;
    },
    async start() {
      child = spawnChild(`redis-server:${port}`, 'redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no',
      ], { PATH: process.env.PATH });
      const deadline = Date.now() + 10_000;
      while (!(await redisPing(port))) {
        if (child.process.exitCode !== null) throw new Error(`redis-server exited:\n${child.output()}`);
        if (Date.now() > deadline) throw new Error(`redis-server not up on ${port}:\n${child.output()}`);
        await sleep(20);
      }
    },
    async kill() {
      await child?.stop('SIGKILL');
    },
  };
  await own.start();
  return own;
}
