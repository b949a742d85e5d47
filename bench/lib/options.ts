/* eslint-disable no-restricted-properties -- the bench is a process shell like scripts/**: it reads its own knobs
   (BENCH_*) and hands the processes it starts their environment; the app itself still reads config via loadConfig(). */
import { parseArgs } from 'node:util';

export const SCENARIO_IDS = ['ceiling', 'health', 'list', 'list-traced', 'detail', 'me', 'send', 'send-accept', 'ttft', 'streams', 'search'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface BenchOptions {
  /** Seconds of measured load per autocannon scenario (and of the TTFT loop). */
  durationSeconds: number;
  /** Seconds of unmeasured warm-up load before each autocannon scenario. */
  warmupSeconds: number;
  /** Connections of the read scenarios (ceiling, list, detail, me). */
  connections: number;
  /** Connections (= chatrooms, one pending reply each) of the POST → completed scenario. */
  sendConnections: number;
  /** Concurrent POST → first delta loops (each on its own chatroom). */
  ttftConcurrency: number;
  /** Open SSE streams of the streams scenario. */
  streams: number;
  /** Prompt markers of the streams scenario's replies (fake Gemini scripting). */
  streamMarkers: string;
  /** WORKER_CONCURRENCY of the bench worker. */
  workerConcurrency: number;
  /** FAKE_GEMINI_FIRST_CHUNK_DELAY_MS / FAKE_GEMINI_CHUNK_DELAY_MS: the fake model's latency (0 = none). */
  fakeFirstChunkDelayMs: number;
  fakeChunkDelayMs: number;
  portBase: number;
  databaseUrl: string;
  redisUrl: string;
  scenarios: ScenarioId[];
  skipBuild: boolean;
  /** Extra node flags for the API and the worker (e.g. V8 heap sizing), split on spaces. */
  nodeFlags: string[];
  /** Node flags of the worker, when they differ from the API's. */
  workerNodeFlags: string[];
  /** Start the API and the worker with --cpu-prof (profiles written to bench/results/profiles/ on shutdown). */
  cpuProf: boolean;
  /** Start the API and the worker with bench/lib/heap-sampling.mjs (allocation profiles, garbage included). */
  heapProf: boolean;
  /** Seconds to wait, before each scenario, for the machine to be quiet (under 25 % busy). */
  quietWaitSeconds: number;
  /** Output files without extension: <out>.json and <out>.md. */
  out: string;
}

const HELP = `pnpm bench [options]       (every option also reads an env var; flags win)

  --duration <s>          BENCH_DURATION           measured seconds per scenario (default 8)
  --warmup <s>            BENCH_WARMUP             unmeasured warm-up seconds per scenario (default 1)
  --connections <n>       BENCH_CONNECTIONS        connections of the GET scenarios and the ceiling (default 50)
  --send-connections <n>  BENCH_SEND_CONNECTIONS   chatrooms/connections of POST → completed (default 32)
  --ttft-concurrency <n>  BENCH_TTFT_CONCURRENCY   parallel POST → first delta loops (default 1)
  --streams <n>           BENCH_STREAMS            open SSE streams (default 1000)
  --stream-markers <s>    BENCH_STREAM_MARKERS     fake-model markers of the streamed replies (default
                                                   "[[chunks:20]] [[slow:200 first=12000]]": 20 chunks 200 ms apart after
                                                   12 s, so every stream is open before the first ones end)
  --worker-concurrency <n> BENCH_WORKER_CONCURRENCY WORKER_CONCURRENCY of the worker (default 250: the other streams
                                                   wait, open, for their reply to start)
  --fake-first-chunk-ms <n> BENCH_FAKE_FIRST_CHUNK_DELAY_MS  fake model time to first chunk (default 0)
  --fake-chunk-ms <n>     BENCH_FAKE_CHUNK_DELAY_MS  fake model delay between chunks (default 0)
  --port-base <n>         BENCH_PORT_BASE          API=n, worker metrics=n+1, fake Gemini=n+2, ceiling=n+3,
                                                   traced API (list-traced)=n+4 (default 39100)
  --database-url <url>    BENCH_DATABASE_URL       (default postgres://postgres@127.0.0.1:5432/gemini_chat_bench; dropped and
                                                   re-created each run when its name contains "bench")
  --redis-url <url>       BENCH_REDIS_URL          (default redis://127.0.0.1:6379; keys under bench:<pid>:, removed at the end)
  --scenarios <list>      BENCH_SCENARIOS          comma list of ${SCENARIO_IDS.join(',')} (default all)
  --skip-build            BENCH_SKIP_BUILD=1       use the existing dist/ bundles
  --node-flags=<flags>    BENCH_NODE_FLAGS         node flags of the API and the worker (default "--max-semi-space-size=2",
                                                   as the Dockerfile's NODE_OPTIONS; --node-flags= for Node's defaults)
  --worker-node-flags=<f> BENCH_WORKER_NODE_FLAGS  node flags of the worker only (default: --node-flags)
  --cpu-prof              BENCH_CPU_PROF=1         profile the API and the worker (node --cpu-prof) into
                                                   bench/results/profiles/{api,worker}/
  --heap-prof             BENCH_HEAP_PROF=1        sample the API's and the worker's allocations, garbage included
                                                   (bench/lib/heap-sampling.mjs), into bench/results/heap-profiles/{api,worker}/
  --quiet-wait <s>        BENCH_QUIET_WAIT         before each scenario, wait up to this long for the machine to be
                                                   under 25 % busy (shared machines; default 60)
  --out <path>            BENCH_OUT                results path without extension (default bench/results/latest)
`;

function int(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

const flags = (raw: string) => raw.split(' ').filter(Boolean);

const truthy = (raw: string | undefined) => raw !== undefined && raw !== '' && raw !== '0' && raw.toLowerCase() !== 'false';

export function readOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      'send-connections': { type: 'string' },
      'ttft-concurrency': { type: 'string' },
      streams: { type: 'string' },
      'stream-markers': { type: 'string' },
      'worker-concurrency': { type: 'string' },
      'fake-first-chunk-ms': { type: 'string' },
      'fake-chunk-ms': { type: 'string' },
      'port-base': { type: 'string' },
      'database-url': { type: 'string' },
      'redis-url': { type: 'string' },
      scenarios: { type: 'string' },
      'skip-build': { type: 'boolean' },
      'node-flags': { type: 'string' },
      'worker-node-flags': { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      'heap-prof': { type: 'boolean' },
      'quiet-wait': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const env = process.env;
  const streams = int('streams', values.streams ?? env.BENCH_STREAMS, 1000, 1);
  const scenarioList = (values.scenarios ?? env.BENCH_SCENARIOS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of scenarioList) {
    if (!(SCENARIO_IDS as readonly string[]).includes(id)) throw new Error(`unknown scenario "${id}" (known: ${SCENARIO_IDS.join(', ')})`);
  }
  return {
    durationSeconds: int('duration', values.duration ?? env.BENCH_DURATION, 8, 1),
    warmupSeconds: int('warmup', values.warmup ?? env.BENCH_WARMUP, 1, 0),
    connections: int('connections', values.connections ?? env.BENCH_CONNECTIONS, 50, 1),
    sendConnections: int('send-connections', values['send-connections'] ?? env.BENCH_SEND_CONNECTIONS, 32, 1),
    ttftConcurrency: int('ttft-concurrency', values['ttft-concurrency'] ?? env.BENCH_TTFT_CONCURRENCY, 1, 1),
    streams,
    streamMarkers: values['stream-markers'] ?? env.BENCH_STREAM_MARKERS ?? '[[chunks:20]] [[slow:200 first=12000]]',
    workerConcurrency: int('worker-concurrency', values['worker-concurrency'] ?? env.BENCH_WORKER_CONCURRENCY, 250, 1),
    fakeFirstChunkDelayMs: int('fake-first-chunk-ms', values['fake-first-chunk-ms'] ?? env.BENCH_FAKE_FIRST_CHUNK_DELAY_MS, 0),
    fakeChunkDelayMs: int('fake-chunk-ms', values['fake-chunk-ms'] ?? env.BENCH_FAKE_CHUNK_DELAY_MS, 0),
    portBase: int('port-base', values['port-base'] ?? env.BENCH_PORT_BASE, 39100, 1024),
    databaseUrl: values['database-url'] ?? env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gemini_chat_bench',
    redisUrl: values['redis-url'] ?? env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    scenarios: scenarioList.length ? (scenarioList as ScenarioId[]) : [...SCENARIO_IDS],
    skipBuild: values['skip-build'] ?? truthy(env.BENCH_SKIP_BUILD),
    // The production image's NODE_OPTIONS (Dockerfile), so the bench measures what is deployed.
    nodeFlags: flags(values['node-flags'] ?? env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=2'),
    workerNodeFlags: flags(values['worker-node-flags'] ?? env.BENCH_WORKER_NODE_FLAGS ?? values['node-flags'] ?? env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=2'),
    cpuProf: values['cpu-prof'] ?? truthy(env.BENCH_CPU_PROF),
    heapProf: values['heap-prof'] ?? truthy(env.BENCH_HEAP_PROF),
    quietWaitSeconds: int('quiet-wait', values['quiet-wait'] ?? env.BENCH_QUIET_WAIT, 60),
    out: values.out ?? env.BENCH_OUT ?? 'bench/results/latest',
  };
}

// Only these are inherited: an app setting exported in the caller's shell (STRIPE_SECRET_KEY, DATABASE_SCHEMA...)
// must not leak into the measured processes.
const INHERITED = ['PATH', 'HOME', 'USER', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ', 'SYSTEMROOT'];

/** A child process's environment: the basics of this one plus the given settings, nothing else. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of INHERITED) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, ...overrides };
}
