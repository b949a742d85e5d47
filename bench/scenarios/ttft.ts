// Scenario 7: POST → first streamed delta, with the fake model's time to first token at 0 (by default).
import type { TtftOutcome } from '../load-worker.js';
import { runLoad } from '../lib/load.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

export async function ttft(ctx: BenchContext): Promise<{ row: ScenarioRow; overheadP50Ms: number; window: { fromMs: number; toMs: number } }> {
  const { ttft: user, ttftRooms } = ctx.seed;
  const fromMs = Date.now();
  const run = await runLoad<TtftOutcome>(
    {
      kind: 'ttft',
      api: ctx.api,
      token: user.token,
      chatrooms: ttftRooms,
      durationSeconds: ctx.options.durationSeconds,
      maxSamples: 5000,
      prompt: 'first delta probe',
    },
    { api: ctx.pids.api, worker: ctx.pids.worker },
    ctx.options.durationSeconds * 1000 + 60_000,
  );
  const toMs = Date.now();
  const { outcome, usage } = run;
  const modelTtft = ctx.options.fakeFirstChunkDelayMs;
  const overheadP50Ms = outcome.postToFirstDeltaMs.p50 - modelTtft;
  const overheadP99Ms = outcome.postToFirstDeltaMs.p99 - modelTtft;
  const r = row('ttft', 'POST → first SSE delta', `POST (202), then GET …/stream until the first delta; ${ttftRooms.length} loop(s)`, {
    rps: outcome.samples / ctx.options.durationSeconds,
    p50Ms: outcome.postToFirstDeltaMs.p50,
    p99Ms: outcome.postToFirstDeltaMs.p99,
    errors: outcome.errors,
    rssMb: usage.byName.api?.peakRssMb ?? null,
    cpuPercent: usage.byName.api?.cpuPercent ?? null,
    loadCpuPercent: usage.byName.load?.cpuPercent ?? null,
    machine: usage.machine,
    requestsServed: outcome.samples,
    notes: [
      `${outcome.samples} samples; fake model TTFT ${modelTtft} ms → overhead p50 ${fmt(overheadP50Ms)} ms, p99 ${fmt(overheadP99Ms)} ms`,
      `split: POST→202 p50 ${fmt(outcome.postMs.p50)} ms; 202→first delta p50 ${fmt(outcome.streamToFirstDeltaMs.p50)} ms`,
      `POST → done p50 ${fmt(outcome.postToDoneMs.p50)} ms, p99 ${fmt(outcome.postToDoneMs.p99)} ms`,
      ...outcome.errorExamples.map((e) => `error: ${e}`),
    ],
    details: { outcome, usage, overheadP50Ms, overheadP99Ms },
  });
  return { row: r, overheadP50Ms, window: { fromMs, toMs } };
}

const fmt = (n: number) => (Number.isFinite(n) ? (Math.round(n * 10) / 10).toString() : String(n));
