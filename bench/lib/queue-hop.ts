// The queue hop: BullMQ's `processedOn - timestamp` of each reply job (enqueued by the API, taken by the worker).
// Read two ways: exactly, from the finished jobs' hashes in Redis; and from the worker's Prometheus histogram
// job_queue_wait_seconds (bucketed), as a cross-check of what production dashboards would show.
import { distribution, type Distribution } from './stats.js';
import type { BenchRedis } from './stores.js';

export interface HopFromJobs {
  jobs: number;
  hopMs: Distribution;
  /** processedOn → finishedOn (the worker's whole job: claim, prompt, model call, save). */
  processingMs: Distribution;
}

/** Reply jobs that finished in [fromMs, toMs] (BullMQ keeps the newest 1000 completed reply jobs). */
export async function hopFromJobs(redis: BenchRedis, bullPrefix: string, fromMs: number, toMs: number): Promise<HopFromJobs> {
  const queue = `${bullPrefix}:replies`;
  const ids = (await redis.zrangebyscore(`${queue}:completed`, fromMs, toMs)).filter((id) => id.startsWith('reply-'));
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hmget(`${queue}:${id}`, 'timestamp', 'processedOn', 'finishedOn');
  const rows = (await pipeline.exec()) ?? [];
  const hops: number[] = [];
  const processing: number[] = [];
  for (const [err, value] of rows) {
    if (err) continue;
    const [timestamp, processedOn, finishedOn] = (value as Array<string | null>).map((v) => (v === null ? Number.NaN : Number(v)));
    if (Number.isFinite(timestamp) && Number.isFinite(processedOn)) hops.push(processedOn! - timestamp!);
    if (Number.isFinite(processedOn) && Number.isFinite(finishedOn)) processing.push(finishedOn! - processedOn!);
  }
  return { jobs: hops.length, hopMs: distribution(hops), processingMs: distribution(processing) };
}

export type Histogram = Map<number, number>; // upper bound (seconds, Infinity for +Inf) → cumulative count

/** Reads one histogram (cumulative buckets) for one label set from a Prometheus text exposition. */
export async function scrape(metricsUrl: string): Promise<string> {
  return (await fetch(metricsUrl, { signal: AbortSignal.timeout(5000) })).text();
}

/** A gauge's value (first series) from a Prometheus text exposition; NaN when absent. */
export function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

export function readHistogram(text: string, name: string, labelMatch: string): Histogram {
  const buckets: Histogram = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`) || !line.includes(labelMatch)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (le !== undefined) buckets.set(le === '+Inf' ? Infinity : Number(le), value);
  }
  return buckets;
}

/** Upper bucket bound (ms) below which `p` % of the observations made between two reads fall. */
export function histogramPercentileMs(before: Histogram, after: Histogram, p: number): { boundMs: number; count: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return { boundMs: Number.NaN, count: 0 };
  for (const bound of bounds) {
    const cumulative = (after.get(bound) ?? 0) - (before.get(bound) ?? 0);
    if (cumulative >= (p / 100) * total) return { boundMs: bound * 1000, count: total };
  }
  return { boundMs: Infinity, count: total };
}

/** Node memory gauges (prom-client default metrics) of a process: heap used/total and external, MB. */
export async function memoryGauges(metricsUrl: string): Promise<{ heapUsedMb: number; heapTotalMb: number; externalMb: number; rssMb: number }> {
  const text = await scrape(metricsUrl);
  const mb = (name: string) => gauge(text, name) / 2 ** 20;
  return {
    heapUsedMb: mb('nodejs_heap_size_used_bytes'),
    heapTotalMb: mb('nodejs_heap_size_total_bytes'),
    externalMb: mb('nodejs_external_memory_bytes'),
    rssMb: mb('process_resident_memory_bytes'),
  };
}
