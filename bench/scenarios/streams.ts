// Scenario 8: N concurrent SSE streams of slow replies; delivery correctness and memory.
import type { StreamsOutcome } from '../load-worker.js';
import { runLoad } from '../lib/load.js';
import { currentRssMb as rss } from '../lib/processes.js';
import { memoryGauges } from '../lib/queue-hop.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

export async function streams(ctx: BenchContext): Promise<{ row: ScenarioRow; peakTotalRssMb: number; allOpen: boolean }> {
  const { streams: user, streamRooms } = ctx.seed;
  const before = { api: rss(ctx.pids.api), worker: rss(ctx.pids.worker) };
  const gaugesBefore = await Promise.all([memoryGauges(`${ctx.api}/metrics`), memoryGauges(`${ctx.workerMetricsUrl}/metrics`)]).catch(() => undefined);
  const run = await runLoad<StreamsOutcome>(
    {
      kind: 'streams',
      api: ctx.api,
      token: user.token,
      chatrooms: streamRooms,
      prompt: ctx.options.streamMarkers,
      postConcurrency: 50,
      timeoutSeconds: 240,
    },
    { api: ctx.pids.api, worker: ctx.pids.worker },
    300_000,
  );
  const { outcome, usage, marks } = run;
  const api = usage.byName.api;
  const worker = usage.byName.worker;
  const allOpen = marks['all-open'];
  const failures = outcome.errors + outcome.mismatched + (outcome.requested - outcome.done);
  const r = row('streams', `${outcome.requested} concurrent SSE streams`, `replies "${ctx.options.streamMarkers}"; all deltas checked against the stored reply`, {
    p50Ms: outcome.postToDoneMs.p50,
    p99Ms: outcome.postToDoneMs.p99,
    errors: failures,
    rssMb: api?.peakRssMb ?? null,
    cpuPercent: api?.cpuPercent ?? null,
    loadCpuPercent: usage.byName.load?.cpuPercent ?? null,
    machine: usage.machine,
    requestsServed: outcome.requested,
    notes: [
      `delivery: ${outcome.done}/${outcome.requested} done, ${outcome.completed} completed, ${outcome.matched} matched the stored reply, ${outcome.mismatched} mismatched, ${outcome.errors} errors`,
      `${outcome.requested} POSTs answered within ${Math.round(outcome.postedAllAfterMs)} ms; open at once: peak ${outcome.peakOpen}${outcome.allOpenAfterMs !== null ? `, all open ${Math.round(outcome.allOpenAfterMs)} ms after the first POST` : ' (never all at once)'}; ${outcome.deltaEvents} deltas in ${Math.round(outcome.totalMs)} ms`,
      `RSS MB: API ${mb(before.api)} → peak ${mb(api?.peakRssMb)}; worker ${mb(before.worker)} → peak ${mb(worker?.peakRssMb)}; API+worker peak ${mb(usage.peakTotalRssMb)}`,
      ...(allOpen ? [`RSS MB when all were open: API ${mb(allOpen.api)}, worker ${mb(allOpen.worker)}, total ${mb(allOpen.total)}`] : []),
      ...(gaugesBefore
        ? [
            `before the streams — API: heap used ${mb(gaugesBefore[0].heapUsedMb)} of ${mb(gaugesBefore[0].heapTotalMb)} MB, external ${mb(gaugesBefore[0].externalMb)} MB; ` +
              `worker: heap used ${mb(gaugesBefore[1].heapUsedMb)} of ${mb(gaugesBefore[1].heapTotalMb)} MB, external ${mb(gaugesBefore[1].externalMb)} MB (the rest of RSS is code, V8 and native)`,
          ]
        : []),
      `worker CPU ${Math.round(worker?.cpuPercent ?? 0)} %; latency columns: POST → done`,
      ...outcome.errorExamples.map((e) => `error: ${e}`),
    ],
    details: { outcome, usage, marks, rssBeforeMb: before, memoryGaugesBefore: gaugesBefore },
  });
  return { row: r, peakTotalRssMb: usage.peakTotalRssMb, allOpen: outcome.allOpenAfterMs !== null };
}

const mb = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '?' : String(Math.round(n)));
