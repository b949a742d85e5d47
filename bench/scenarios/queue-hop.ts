import { gauge, histogramPercentileMs, hopFromJobs, readHistogram, scrape, type Histogram } from '../lib/queue-hop.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

const HISTOGRAM = 'job_queue_wait_seconds';
const LABEL = 'job="generate-reply"';

// Worker histograms read around a scenario: where a reply's time goes on the worker's side.
const WORKER_HISTOGRAMS = {
  queueWait: [HISTOGRAM, LABEL],
  jobDuration: ['job_duration_seconds', 'outcome="completed"'],
  geminiCall: ['gemini_request_duration_seconds', 'outcome="ok"'],
  geminiFirstToken: ['gemini_time_to_first_token_seconds', ''],
} as const;
export type WorkerHistograms = Record<keyof typeof WORKER_HISTOGRAMS, Histogram> & {
  /** Event-loop delay since the previous scrape (prom-client resets it on each), ms. */
  loopLagMs: { p50: number; p99: number; max: number };
};

/** Snapshot of the worker's histograms (one scrape), to diff after a scenario. */
export async function queueWaitHistogram(ctx: BenchContext): Promise<WorkerHistograms> {
  const text = await scrape(`${ctx.workerMetricsUrl}/metrics`);
  const entries = Object.entries(WORKER_HISTOGRAMS).map(([key, [name, label]]) => [key, readHistogram(text, name, label)] as const);
  const lag = (name: string) => gauge(text, name) * 1000;
  return {
    ...(Object.fromEntries(entries) as Record<keyof typeof WORKER_HISTOGRAMS, Histogram>),
    loopLagMs: { p50: lag('nodejs_eventloop_lag_p50_seconds'), p99: lag('nodejs_eventloop_lag_p99_seconds'), max: lag('nodejs_eventloop_lag_max_seconds') },
  };
}

/**
 * Scenario 6: the queue hop (BullMQ `processedOn - timestamp`) of the reply jobs that finished during a
 * scenario, exactly from the job hashes, with the worker's histogram as a cross-check.
 */
export async function queueHop(
  ctx: BenchContext,
  during: { id: string; label: string; fromMs: number; toMs: number; histogramBefore: WorkerHistograms },
): Promise<ScenarioRow> {
  // Jobs still finishing right after the measured window belong to it too.
  const jobs = await hopFromJobs(ctx.redis, ctx.bullPrefix, during.fromMs, during.toMs + 2000);
  const after = await queueWaitHistogram(ctx);
  const h50 = histogramPercentileMs(during.histogramBefore.queueWait, after.queueWait, 50);
  const h99 = histogramPercentileMs(during.histogramBefore.queueWait, after.queueWait, 99);
  const bound = (key: keyof typeof WORKER_HISTOGRAMS, p: number) => fmt(histogramPercentileMs(during.histogramBefore[key], after[key], p).boundMs);
  return row(`hop-${during.id}`, `queue hop (${during.label})`, 'BullMQ processedOn − timestamp of reply jobs', {
    p50Ms: jobs.hopMs.p50,
    p99Ms: jobs.hopMs.p99,
    notes: [
      `${jobs.jobs} jobs; max ${fmt(jobs.hopMs.max)} ms`,
      `worker histogram: p50 ≤ ${fmt(h50.boundMs)} ms, p99 ≤ ${fmt(h99.boundMs)} ms (${h50.count} obs.)`,
      `job run (processedOn→finishedOn) p50 ${fmt(jobs.processingMs.p50)} ms, p99 ${fmt(jobs.processingMs.p99)} ms`,
      `worker histograms (p50/p99 bucket bounds, ms): job ${bound('jobDuration', 50)}/${bound('jobDuration', 99)}, ` +
        `Gemini call ${bound('geminiCall', 50)}/${bound('geminiCall', 99)}, first token ${bound('geminiFirstToken', 50)}/${bound('geminiFirstToken', 99)}`,
      `worker event-loop delay over the scenario: p50 ${fmt(after.loopLagMs.p50)} ms, p99 ${fmt(after.loopLagMs.p99)} ms, max ${fmt(after.loopLagMs.max)} ms`,
    ],
    details: { jobs, histogram: { p50BoundMs: h50.boundMs, p99BoundMs: h99.boundMs, observations: h50.count }, workerLoopLagMs: after.loopLagMs },
  });
}

const fmt = (n: number) => (Number.isFinite(n) ? (Math.round(n * 10) / 10).toString() : String(n));
