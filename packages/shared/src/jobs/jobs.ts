import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import { closeRedis, createRedis } from '../redis/create-redis.js';
import { currentTraceCarrier, type TraceCarrier } from '../telemetry/trace-context.js';

/**
 * What every payload may carry besides its ids: the trace context of the request (or job) that enqueued it, so
 * the job's span is a child of it. Set by the producer alone; absent when tracing is off.
 */
export interface TracedPayload {
  trace?: TraceCarrier;
}

/** Every job name and its payload. Payloads carry ids only; the handler loads current state itself. */
export interface JobPayloads {
  'generate-reply': { assistantMessageId: string } & TracedPayload;
  /** Names a chatroom still titled by default after its first exchange. Low priority. */
  'generate-title': { chatroomId: string } & TracedPayload;
  /** Removes a user marked deleted: stored files first, then the row (which cascades to everything else). */
  'delete-account': { userId: string } & TracedPayload;
}
export type JobName = keyof JobPayloads;

export const QUEUE_NAME = 'replies';

/** BullMQ's key prefix for this deployment (under the app's Redis prefix, so tests and tenants never collide). */
export const bullPrefix = (redisKeyPrefix: string) => `${redisKeyPrefix}bull`;

// Job ids are derived from the work itself, so enqueueing the same work twice (a retry, the sweeper) is a no-op.
export const jobIdFor: { [N in JobName]: (payload: JobPayloads[N]) => string } = {
  'generate-reply': ({ assistantMessageId }) => `reply-${assistantMessageId}`,
  'generate-title': ({ chatroomId }) => `title-${chatroomId}`,
  'delete-account': ({ userId }) => `delete-account-${userId}`,
};

/** Attempts, backoff and retention for each job, in one place. */
export function jobOptions(name: JobName, attempts: number): JobsOptions {
  switch (name) {
    case 'generate-reply':
      return {
        attempts,
        // 'provider' is the worker's own strategy: Gemini's RetryInfo delay when given, else exponential + jitter.
        backoff: { type: 'provider', delay: 1000 },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600 },
      };
    case 'generate-title':
      return {
        attempts: 2,
        // Prioritised jobs run after unprioritised ones: replies always go first.
        priority: 10,
        backoff: { type: 'provider', delay: 2000 },
        removeOnComplete: true,
        removeOnFail: { age: 3600 },
      };
    case 'delete-account':
      return {
        // Retried for over a day (storage outages); the worker's sweep enqueues it again if it still gives up.
        attempts: 16,
        backoff: { type: 'exponential', delay: 2000 },
        // Removed once done, so a later enqueue for the same user (the sweep) is not swallowed by its id.
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      };
  }
}

/** The producer side of the queue, used by the API and by the worker's sweeper. */
export function createJobProducer(
  redisConfig: Config['redis'],
  attempts: number,
  logger?: Logger,
) {
  // A connection of its own: while Redis is down, enqueue fails after the command timeout instead of hanging.
  const connection = createRedis(redisConfig, { kind: 'queue', name: 'queue-producer', ...(logger ? { logger } : {}) });
  const queue = new Queue(QUEUE_NAME, { connection, prefix: bullPrefix(redisConfig.keyPrefix) });
  queue.on('error', (err) => logger?.warn({ err }, 'queue error'));
  return {
    queue,
    async enqueue<N extends JobName>(name: N, payload: JobPayloads[N]): Promise<void> {
      const trace = currentTraceCarrier();
      const data: JobPayloads[N] = trace ? { ...payload, trace } : payload;
      await queue.add(name, data, { ...jobOptions(name, attempts), jobId: jobIdFor[name](payload) });
    },
    async close(): Promise<void> {
      await Promise.race([queue.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      await closeRedis(connection);
    },
  };
}
export type JobProducer = ReturnType<typeof createJobProducer>;
