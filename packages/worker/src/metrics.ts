import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one worker process. */
export function createWorkerMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    jobDuration: new Histogram({
      name: 'job_duration_seconds',
      help: 'Time to process one job attempt, by job name and outcome.',
      labelNames: ['job', 'outcome'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 60, 120],
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: 'job_queue_wait_seconds',
      help: 'Time from enqueue (or retry) to the start of processing.',
      labelNames: ['job'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    geminiLatency: new Histogram({
      name: 'gemini_request_duration_seconds',
      help: 'Duration of one Gemini streaming call, start to last chunk, by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 60],
      registers: [registry],
    }),
    geminiTimeToFirstToken: new Histogram({
      name: 'gemini_time_to_first_token_seconds',
      help: 'Time from the Gemini call to its first text chunk.',
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
      registers: [registry],
    }),
    geminiErrors: new Counter({
      name: 'gemini_errors_total',
      help: 'Failed Gemini calls by error class (rate_limited, unavailable, timeout, network, bad_request, blocked...).',
      labelNames: ['class'] as const,
      registers: [registry],
    }),
    replies: new Counter({
      name: 'replies_total',
      help: 'Replies that reached a final state, by status.',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'gemini_tokens_total',
      help: 'Tokens reported by Gemini, by direction.',
      labelNames: ['direction'] as const,
      registers: [registry],
    }),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
