// 2b. What tracing costs: the cached GET /chatroom (scenario 2's request) against the API with tracing off, then
// on (OTLP export, 10 % of traces sampled, as production would run it), then off again, on the same port, each run
// on a freshly started and equally warmed-up process. Two
// overheads, each against the mean of the two off runs (which bracket the on run in time, so a drift of the machine
// weighs on both sides): the API's CPU time per request, which is what tracing adds and what capacity is planned
// on, and which neighbours on a shared machine barely move (the target is checked on it); and the throughput lost,
// which they do move. The spans go to a local OTLP sink that counts them.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AutocannonOutcome } from '../load-worker.js';
import { runLoad, type LoadRun } from '../lib/load.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

export const TRACED_SAMPLE_RATIO = 0.1;
export const TRACING_OVERHEAD_TARGET_PERCENT = 5;

/** Restarts the API with these extra environment variables (none: tracing off); resolves once it is ready. */
export type RestartApi = (tracingEnv: Record<string, string> | undefined) => Promise<void>;

export interface TracedListResult {
  row: ScenarioRow;
  /** API CPU time per request added by tracing, % of the untraced (negative: within noise). */
  overheadPercent: number;
  /** Throughput lost to tracing, % of the untraced throughput. */
  throughputOverheadPercent: number;
}

/** CPU time (user + system) the process has used so far, in seconds (clock ticks are 1/100 s on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** An OTLP/HTTP endpoint that accepts every export and counts the spans in it (JSON, the exporter's default). */
async function startOtlpSink() {
  let spans = 0;
  let exports = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      exports++;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }> };
        for (const resource of body.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
      } catch {
        // not JSON (protobuf): counted as an export only
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ spans, exports }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Measured = LoadRun<AutocannonOutcome> & { cpuMsPerRequest: number };

// Each measured run starts on a warmed-up process: a freshly (re)started API spends its first seconds compiling,
// which would be counted against whichever side was started last.
const WARM_UP_SECONDS = 2;

async function measureList(ctx: BenchContext): Promise<Measured> {
  const { durationSeconds, warmupSeconds, connections } = ctx.options;
  await runLoad<AutocannonOutcome>(
    {
      kind: 'autocannon',
      url: `${ctx.api}/chatroom`,
      method: 'GET',
      headers: { authorization: `Bearer ${ctx.seed.reader.token}` },
      connections,
      durationSeconds: WARM_UP_SECONDS,
      warmupSeconds: 0,
    },
    {},
    WARM_UP_SECONDS * 1000 + 60_000,
  );
  const cpuBefore = cpuSeconds(ctx.pids.api);
  const run = await runLoad<AutocannonOutcome>(
    {
      kind: 'autocannon',
      url: `${ctx.api}/chatroom`,
      method: 'GET',
      headers: { authorization: `Bearer ${ctx.seed.reader.token}` },
      connections,
      durationSeconds,
      warmupSeconds,
    },
    { api: ctx.pids.api },
    (durationSeconds + warmupSeconds) * 1000 + 60_000,
  );
  const served = run.outcome.ok + run.outcome.errorResponses + run.outcome.warmupResponses;
  return { ...run, cpuMsPerRequest: ((cpuSeconds(ctx.pids.api) - cpuBefore) * 1000) / Math.max(1, served) };
}

export async function listTraced(ctx: BenchContext, restartApi: RestartApi): Promise<TracedListResult> {
  const sink = await startOtlpSink();
  try {
    // Every run on a process of its own, started for it: the API left by the previous scenario has served tens of
    // thousands of requests more (its code fully optimised, its heap grown), which made the first off run cheaper
    // than the two on fresh processes.
    await restartApi(undefined);
    const offBefore = await measureList(ctx);
    await restartApi({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(TRACED_SAMPLE_RATIO),
    });
    const on = await measureList(ctx);
    await restartApi(undefined);
    const offAfter = await measureList(ctx);

    const offRps = (offBefore.outcome.requestsPerSecond + offAfter.outcome.requestsPerSecond) / 2;
    const onRps = on.outcome.requestsPerSecond;
    const throughputOverheadPercent = ((offRps - onRps) / offRps) * 100;
    const offCpu = (offBefore.cpuMsPerRequest + offAfter.cpuMsPerRequest) / 2;
    const overheadPercent = ((on.cpuMsPerRequest - offCpu) / offCpu) * 100;
    const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
    const offP50 = (offBefore.outcome.latencyMs.p50 + offAfter.outcome.latencyMs.p50) / 2;
    const { spans, exports } = sink.counts();
    const served = on.outcome.ok + on.outcome.warmupResponses;
    const r = row('list-traced', `GET /chatroom, traced at ${TRACED_SAMPLE_RATIO * 100} %`, 'scenario 2 with OTLP tracing on, against off before and after', {
      rps: onRps,
      p50Ms: on.outcome.latencyMs.p50,
      p99Ms: on.outcome.latencyMs.p99,
      errors: on.outcome.socketErrors + on.outcome.errorResponses,
      rssMb: on.usage.byName.api?.peakRssMb ?? null,
      cpuPercent: on.usage.byName.api?.cpuPercent ?? null,
      loadCpuPercent: on.usage.byName.load?.cpuPercent ?? null,
      machine: on.usage.machine,
      requestsServed: served,
      notes: [
        `API CPU per request: off ${us(offBefore.cpuMsPerRequest)} / ${us(offAfter.cpuMsPerRequest)} (before/after), on ${us(on.cpuMsPerRequest)}: overhead ${overheadPercent.toFixed(1)} %`,
        `off ${Math.round(offBefore.outcome.requestsPerSecond)} / ${Math.round(offAfter.outcome.requestsPerSecond)} req/s, on ${Math.round(onRps)} req/s: throughput overhead ${throughputOverheadPercent.toFixed(1)} %`,
        `p50 off ${offP50.toFixed(2)} ms, on ${on.outcome.latencyMs.p50.toFixed(2)} ms`,
        `${spans} spans exported in ${exports} OTLP requests for ${served} requests`,
      ],
      details: {
        offBefore: offBefore.outcome,
        on: on.outcome,
        offAfter: offAfter.outcome,
        cpuMsPerRequest: { offBefore: offBefore.cpuMsPerRequest, on: on.cpuMsPerRequest, offAfter: offAfter.cpuMsPerRequest },
        spans,
        exports,
      },
    });
    return { row: r, overheadPercent, throughputOverheadPercent };
  } finally {
    await sink.close();
  }
}
