// The worker process: generates replies from the queue until SIGTERM/SIGINT, then shuts down gracefully.
import { pino } from 'pino';
import { loadConfigOrExit, shutdownTracing, traceLogFields } from '@gemini-chat/shared';
import { startWorker, type RunningWorker } from './worker.js';

const config = loadConfigOrExit();

const log = pino({
  level: config.logLevel,
  base: { process: 'worker' },
  // The trace and span ids on every line, when tracing is on.
  ...(config.tracing.enabled ? { mixin: traceLogFields } : {}),
});

let worker: RunningWorker;
try {
  worker = await startWorker(config, log);
} catch (err) {
  log.error({ err }, 'worker failed to start');
  process.exit(1);
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker shutting down');
  const hardStop = setTimeout(() => process.exit(1), 15_000);
  hardStop.unref();
  await worker.close();
  await shutdownTracing(); // exports the spans still batched
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
