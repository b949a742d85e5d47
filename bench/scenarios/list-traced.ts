// 2b. What tracing costs: the cached GET /chatroom (scenario 2's request) against two APIs running side by side,
// both freshly started and equally warmed up: one with tracing off, one with it on (OTLP export, 10 % of traces
// sampled, as production would run it). The load alternates between them in 1-second slices (off, on, on, off, …),
// so whatever the machine's neighbours do weighs on both alike; run one after the other, three 5-second runs on a
// shared 2-core machine differed by up to 40 % between the two off runs, more than the effect measured. Two
// overheads: the API's CPU time per request, which is what tracing adds and what capacity is planned on (the target
// is checked on it); and the throughput lost, which neighbours move more. The spans go to a local OTLP sink that
// counts them.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AutocannonOutcome } from '../load-worker.js';
import { runLoad, type LoadRun } from '../lib/load.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

export const TRACED_SAMPLE_RATIO = 0.1;
export const TRACING_OVERHEAD_TARGET_PERCENT = 5;

/** A second API process, started with these extra environment variables on a port of its own. */
export type StartTracedApi = (tracingEnv: Record<string, string>) => Promise<{ url: string; pid: number; stop(): Promise<void> }>;

/** Restarts the bench's API (tracing off); resolves once it is ready. */
export type RestartApi = () => Promise<void>;

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

interface Side {
  cpuSeconds: number;
  requests: number;
  seconds: number;
  p50s: number[];
  p99s: number[];
  errors: number;
  last?: LoadRun<AutocannonOutcome>;
}

// Each side starts on a warmed-up process: a fresh API spends its first seconds compiling.
const WARM_UP_SECONDS = 2;
const SLICE_SECONDS = 1;

function load(ctx: BenchContext, url: string, pid: number, seconds: number): Promise<LoadRun<AutocannonOutcome>> {
  return runLoad<AutocannonOutcome>(
    {
      kind: 'autocannon',
      url: `${url}/chatroom`,
      method: 'GET',
      headers: { authorization: `Bearer ${ctx.seed.reader.token}` },
      connections: ctx.options.connections,
      durationSeconds: seconds,
      warmupSeconds: 0,
    },
    { api: pid },
    seconds * 1000 + 60_000,
  );
}

async function slice(ctx: BenchContext, url: string, pid: number, side: Side): Promise<void> {
  const cpuBefore = cpuSeconds(pid);
  const run = await load(ctx, url, pid, SLICE_SECONDS);
  side.cpuSeconds += cpuSeconds(pid) - cpuBefore;
  side.requests += run.outcome.ok + run.outcome.errorResponses;
  side.seconds += run.outcome.durationSeconds;
  side.p50s.push(run.outcome.latencyMs.p50);
  side.p99s.push(run.outcome.latencyMs.p99);
  side.errors += run.outcome.socketErrors + run.outcome.errorResponses;
  side.last = run;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

export async function listTraced(ctx: BenchContext, restartApi: RestartApi, startTracedApi: StartTracedApi): Promise<TracedListResult> {
  const sink = await startOtlpSink();
  await restartApi();
  const traced = await startTracedApi({
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(TRACED_SAMPLE_RATIO),
  });
  try {
    const apis = { off: { url: ctx.api, pid: ctx.pids.api }, on: { url: traced.url, pid: traced.pid } };
    await load(ctx, apis.off.url, apis.off.pid, WARM_UP_SECONDS);
    await load(ctx, apis.on.url, apis.on.pid, WARM_UP_SECONDS);
    const sides: Record<'off' | 'on', Side> = {
      off: { cpuSeconds: 0, requests: 0, seconds: 0, p50s: [], p99s: [], errors: 0 },
      on: { cpuSeconds: 0, requests: 0, seconds: 0, p50s: [], p99s: [], errors: 0 },
    };
    const pairs = Math.max(2, Math.round(ctx.options.durationSeconds / SLICE_SECONDS));
    for (let i = 0; i < pairs; i++) {
      for (const name of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) await slice(ctx, apis[name].url, apis[name].pid, sides[name]);
    }

    const cpuPerRequest = (side: Side) => (side.cpuSeconds * 1000) / Math.max(1, side.requests);
    const rps = (side: Side) => side.requests / Math.max(1e-9, side.seconds);
    const offCpu = cpuPerRequest(sides.off);
    const onCpu = cpuPerRequest(sides.on);
    const overheadPercent = ((onCpu - offCpu) / offCpu) * 100;
    const throughputOverheadPercent = ((rps(sides.off) - rps(sides.on)) / rps(sides.off)) * 100;
    const us = (ms: number) => `${Math.round(ms * 1000)} µs`;
    const { spans, exports } = sink.counts();
    const on = sides.on.last!;
    const r = row('list-traced', `GET /chatroom, traced at ${TRACED_SAMPLE_RATIO * 100} %`, 'scenario 2 with OTLP tracing on, against an untraced API in alternating slices', {
      rps: rps(sides.on),
      p50Ms: mean(sides.on.p50s),
      p99Ms: mean(sides.on.p99s),
      errors: sides.on.errors,
      rssMb: on.usage.byName.api?.peakRssMb ?? null,
      cpuPercent: on.usage.byName.api?.cpuPercent ?? null,
      loadCpuPercent: on.usage.byName.load?.cpuPercent ?? null,
      machine: on.usage.machine,
      requestsServed: sides.on.requests + sides.off.requests,
      notes: [
        `API CPU per request: off ${us(offCpu)}, on ${us(onCpu)} (${pairs} alternating ${SLICE_SECONDS}-s slices each): overhead ${overheadPercent.toFixed(1)} %`,
        `off ${Math.round(rps(sides.off))} req/s, on ${Math.round(rps(sides.on))} req/s: throughput overhead ${throughputOverheadPercent.toFixed(1)} %`,
        `p50 off ${mean(sides.off.p50s).toFixed(2)} ms, on ${mean(sides.on.p50s).toFixed(2)} ms`,
        `${spans} spans exported in ${exports} OTLP requests for ${sides.on.requests} requests (and the warm-up's)`,
      ],
      details: {
        cpuMsPerRequest: { off: offCpu, on: onCpu },
        requests: { off: sides.off.requests, on: sides.on.requests },
        spans,
        exports,
      },
    });
    return { row: r, overheadPercent, throughputOverheadPercent };
  } finally {
    await traced.stop();
    await sink.close();
  }
}
