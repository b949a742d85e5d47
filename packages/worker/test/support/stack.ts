import { pino } from 'pino';
import { buildApp } from '@gemini-chat/api/app';
import { startFakeGemini, type FakeGemini } from '@gemini-chat/fakes';
import { isolate, type Isolated } from '@gemini-chat/testkit';
import { startWorker, type RunningWorker } from '../../src/worker.js';

type App = Awaited<ReturnType<typeof buildApp>>;

export interface Stack extends Isolated {
  app: App;
  gemini: FakeGemini;
  worker: RunningWorker | undefined;
  startWorker(): Promise<RunningWorker>;
  close(): Promise<void>;
}

/**
 * The whole product in one process: the API app, a worker and the fake Gemini, on a Postgres schema and Redis
 * prefix of their own. `env` overrides settings; `worker: false` leaves the worker stopped (start it later).
 */
export async function startStack(env: Record<string, string> = {}, options: { worker?: boolean } = {}): Promise<Stack> {
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
      stack.worker = await startWorker(isolated.config, log);
      return stack.worker;
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
