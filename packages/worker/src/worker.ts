import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker, type Job } from 'bullmq';
import {
  QUEUE_NAME,
  bullPrefix,
  closeRedis,
  createDb,
  createJobProducer,
  createChatroomListCache,
  createQuota,
  createReplyNotifications,
  createRedis,
  createReplyEvents,
  createStorage,
  createStore,
  redisKeys,
  waitForRedis,
  type Config,
  type JobName,
  type JobPayloads,
  type Logger,
} from '@gemini-chat/shared';
import { createGeminiClient } from './gemini/gemini-client.js';
import { createGenerateReplyHandler, RetryableReplyError, type JobContext } from './handlers/generate-reply.handler.js';
import { createGenerateTitleHandler } from './handlers/generate-title.handler.js';
import { createDeleteAccountHandler } from './handlers/delete-account.handler.js';
import { createWorkerMetrics } from './metrics.js';
import { createFilesSweeper } from './files-sweeper.js';
import { createSweeper } from './sweeper.js';
import { inJobSpan } from './job-span.js';


type Handler<N extends JobName> = (payload: JobPayloads[N], ctx: JobContext) => Promise<void>;
export type JobHandlers = { [N in JobName]: Handler<N> };

export interface RunningWorker {
  /** Where /metrics and /health are served. */
  metricsUrl: string;
  close(): Promise<void>;
}

const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Starts a worker process's parts: the BullMQ worker, the sweeper and the metrics server. Owns its connections
 * and closes them in order (stop taking jobs, finish or hand back running ones, then queue, Redis, database).
 */
export async function startWorker(config: Config, log: Logger): Promise<RunningWorker> {
  if (!config.gemini.apiKey && !config.gemini.baseUrl) {
    throw new Error('Set GEMINI_API_KEY (or GEMINI_BASE_URL for a local fake; `npm run dev` starts one).');
  }
  const db = createDb(config.database, log);
  const store = createStore(db);
  const commands = createRedis(config.redis, { kind: 'command', name: 'worker-commands', logger: log });
  const blocking = createRedis(config.redis, { kind: 'blocking', name: 'worker', logger: log });
  await waitForRedis(commands, 3000);
  const keys = redisKeys(config.redis.keyPrefix);
  const quota = createQuota(commands, keys, config.quota, store.messages);
  const replyEvents = createReplyEvents(commands, config);
  const metrics = createWorkerMetrics();
  const gemini = createGeminiClient(config.gemini);
  const storage = createStorage(config.files.storage);
  const listCache = createChatroomListCache(commands, keys, config.chatroomListCacheTtlSeconds);
  const producer = createJobProducer(config.redis, config.worker.maxAttempts, log);
  // Cancels, deletes and takeovers are published on the control channel; one subscriber per process fans them out.
  const subscriber = createRedis(config.redis, { kind: 'blocking', name: 'worker-subscriber', logger: log });
  const notifications = createReplyNotifications(subscriber, replyEvents.controlChannel);
  await notifications.start();
  const generateReply = createGenerateReplyHandler({
    store,
    gemini,
    storage,
    notifications,
    onCompleted: async (room, firstReply) => {
      // The first completed exchange of a chatroom still titled by default earns it a title.
      if (firstReply) {
        await producer.enqueue('generate-title', { chatroomId: room.id });
      }
    },
    replyEvents,
    quota,
    config,
    metrics,
    log,
  });

  // Adding a job name without a handler is a compile error here, not a job silently dropped at run time.
  const handlers = {
    'generate-reply': generateReply.handle,
    'generate-title': createGenerateTitleHandler({ store, gemini, listCache }),
    'delete-account': createDeleteAccountHandler({ store, storage, log }),
  } satisfies JobHandlers;

  const worker = new Worker<JobPayloads[JobName], void, JobName>(
    QUEUE_NAME,
    async (job: Job<JobPayloads[JobName], void, JobName>, _token?: string, signal?: AbortSignal) => {
      const started = performance.now();
      metrics.queueWait.observe({ job: job.name }, Math.max(0, (job.processedOn ?? Date.now()) - job.timestamp) / 1000);
      const ctx: JobContext = { attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1, signal: signal ?? new AbortController().signal };
      let outcome = 'completed';
      try {
        await inJobSpan(job, () => (handlers[job.name] as Handler<JobName>)(job.data, ctx));
      } catch (err) {
        outcome = err instanceof RetryableReplyError ? 'retry' : 'failed';
        throw err;
      } finally {
        metrics.jobDuration.observe({ job: job.name, outcome }, (performance.now() - started) / 1000);
      }
    },
    {
      connection: blocking,
      prefix: bullPrefix(config.redis.keyPrefix),
      concurrency: config.worker.concurrency,
      lockDuration: config.worker.lockDurationMs,
      stalledInterval: Math.min(30_000, config.worker.lockDurationMs),
      // A job whose worker died is handed to another after its lock expires; twice at most, then it fails.
      maxStalledCount: 2,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) => {
          // Gemini's RetryInfo delay when it gave one, else exponential with jitter.
          const hinted = err instanceof RetryableReplyError ? err.failure.retryDelayMs : undefined;
          if (hinted !== undefined) return Math.min(hinted, 5 * 60_000);
          const base = config.worker.retryBaseDelayMs * 2 ** Math.max(0, attemptsMade - 1);
          return Math.round(base / 2 + Math.random() * (base / 2));
        },
      },
    },
  );
  worker.on('error', (err) => log.error({ err }, 'worker error'));
  // The queue gave up on a job outside the handler (stalled too often, lock lost for good): end the reply for
  // its readers, with the text they were shown. A reply the handler already ended is left as it is.
  worker.on('failed', (job, err) => {
    if (!job || job.name !== 'generate-reply') return;
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade < attempts && !/job stalled more than allowable limit/i.test(err.message)) return;
    const { assistantMessageId } = job.data as JobPayloads['generate-reply'];
    void generateReply
      .abandon(assistantMessageId, { retryable: false, code: 'GENERATION_FAILED', message: 'The reply could not be generated.', errorClass: 'internal' })
      .catch((failErr: unknown) => log.error({ err: failErr, assistantMessageId }, 'could not mark reply failed'));
  });

  const sweeper = createSweeper({ store, producer, quota, config: config.worker, log });
  sweeper.start();
  const filesSweeper = createFilesSweeper({ attachments: store.attachments, storage, config: config.files, log });
  filesSweeper.start();

  const server = await serveMetrics(config.worker.metricsPort, metrics.registry);
  const address = server.address() as AddressInfo;
  log.info({ concurrency: config.worker.concurrency, model: config.gemini.model, metricsPort: address.port }, 'worker started');

  let closing: Promise<void> | undefined;
  return {
    metricsUrl: `http://127.0.0.1:${address.port}`,
    close() {
      closing ??= (async () => {
        sweeper.stop();
        filesSweeper.stop();
        const timer = setTimeout(() => log.error({}, 'worker close is taking long; connections will be dropped'), SHUTDOWN_TIMEOUT_MS);
        try {
          // Waits for running jobs; their AbortSignal is not fired, so a reply mid-stream finishes normally.
          await Promise.race([worker.close(), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref())]);
          await producer.close().catch(() => {});
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await Promise.allSettled([notifications.close(), closeRedis(blocking), closeRedis(commands), storage.close(), db.destroy()]);
        } finally {
          clearTimeout(timer);
        }
      })();
      return closing;
    },
  };
}

function serveMetrics(port: number, registry: ReturnType<typeof createWorkerMetrics>['registry']): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body))
        .catch(() => res.writeHead(500).end());
      return;
    }
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}
