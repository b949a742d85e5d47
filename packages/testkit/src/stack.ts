import { pino, type Logger } from 'pino';
import { buildApp } from '@gemini-chat/api/app';
import { startFakeGemini, type FakeGemini } from '@gemini-chat/fakes';
import type { Config } from '@gemini-chat/shared';
import { isolate, type Isolated } from './isolation.js';

type App = Awaited<ReturnType<typeof buildApp>>;

/** What the stack and its tests use of a running worker (the worker package's `RunningWorker`). */
export interface StackWorker {
  /** Where /metrics and /health are served. */
  metricsUrl: string;
  close(): Promise<void>;
}

/**
 * The worker package's `startWorker`. The caller hands it in: the worker's own tests use testkit, so testkit
 * depending on the worker package would be a workspace cycle.
 */
export type StartWorker = (config: Config, log: Logger) => Promise<StackWorker>;

export interface StackOptions {
  startWorker: StartWorker;
  /** `false` leaves the worker stopped (start it later with `stack.startWorker()`). */
  worker?: boolean;
}

export interface Stack extends Isolated {
  app: App;
  gemini: FakeGemini;
  worker: StackWorker | undefined;
  startWorker(): Promise<StackWorker>;
  /** Another API instance on the same database and Redis prefix, as a second replica; the caller closes it. */
  buildAnotherApp(): Promise<App>;
  close(): Promise<void>;
}

/**
 * The whole product in one process: the API app, a worker and the fake Gemini, on a Postgres schema and Redis
 * prefix of their own. `env` overrides settings.
 */
export async function startStack(env: Record<string, string>, options: StackOptions): Promise<Stack> {
  const gemini = await startFakeGemini();
  const isolated = await isolate({
    GEMINI_BASE_URL: gemini.url,
    GEMINI_API_KEY: 'test-key',
    WORKER_METRICS_PORT: '0',
    REPLY_RETRY_BASE_DELAY_MS: '50',
    ...env,
  });
  const app = await buildApp({ config: isolated.config, logger: false });
  await app.ready();
  const log = pino({ level: 'silent' });
  const stack: Stack = {
    ...isolated,
    app,
    gemini,
    worker: undefined,
    async startWorker() {
      stack.worker = await options.startWorker(isolated.config, log);
      return stack.worker;
    },
    buildAnotherApp() {
      return buildApp({ config: isolated.config, logger: false });
    },
    async close() {
      await stack.worker?.close();
      await app.close();
      await gemini.close();
      await isolated.cleanup();
    },
  };
  if (options.worker !== false) await stack.startWorker();
  return stack;
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Polls until the request answers `status`; returns how long that took (ms). Pub/sub is one hop, not zero. */
export async function timeUntil(status: number, request: () => Promise<{ statusCode: number }>, limitMs = 1000): Promise<number> {
  const started = Date.now();
  while ((await request()).statusCode !== status) {
    if (Date.now() - started > limitMs) throw new Error(`still not ${status} after ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Date.now() - started;
}
