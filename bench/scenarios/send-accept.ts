// Scenario send-accept: POST /chatroom/:id/message without waiting (202), every request to a chatroom of its own so
// none is ever busy (409 CHATROOM_BUSY), measured with the worker paused (SIGSTOP: the API's own cost, replies pile
// up queued) and running. Per phase: the maximum rate (closed loop), then the latency at half that rate (open
// loop, autocannon's overallRate), and what each accepted send cost in Postgres transactions (pg_stat_database)
// and Redis round trips (counted inside the API and the worker by bench/lib/io-probe.mjs).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AutocannonOutcome } from '../load-worker.js';
import { signUp, type BenchUser } from '../lib/api-client.js';
import { runLoad } from '../lib/load.js';
import { PG_STATS_SETTLE_MS } from '../lib/stores.js';
import type { TargetCheck } from '../lib/report.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

const requireFromShared = createRequire(new URL('../../packages/shared/package.json', import.meta.url));
const IO_PROBE = fileURLToPath(new URL('../lib/io-probe.mjs', import.meta.url));
// When the last half-rate load stopped: the next phase's transaction count starts after its counts are published.
let halfRateEndedAt = 0;

/** The targets of the send path. */
export const SEND_TARGETS = {
  acceptRps: 4000,
  halfRateP99Ms: 25,
  pgPerSend: 2,
  // The budget packages/api/test/message/send-cost.test.ts asserts: quota, job, list-cache invalidation.
  redisPerSend: 3,
  completedRps: 3 * 165,
  pgPerPrompt: 4,
  hopP99Ms: 15,
  generationsPeakMb: 300,
};

/** Environment for the API and the worker that loads the I/O probe (only when this scenario runs). */
export function ioProbeEnv(enabled: boolean, dir: string): Record<string, string> {
  if (!enabled) return {};
  mkdirSync(dir, { recursive: true });
  return { NODE_OPTIONS: `--import=${IO_PROBE}`, BENCH_IO_PROBE_DIR: dir };
}

interface IoCounts {
  pgTransactions: number;
  pgStatements: number;
  redisRoundTrips: number;
  redisCommands: number;
  /** Redis commands by name. */
  byCommand: Record<string, number>;
}

/** Asks a probed process for its counts (SIGUSR2; it writes <dir>/<pid>.json). */
async function ioCounts(pid: number, dir: string): Promise<IoCounts | undefined> {
  const file = join(dir, `${pid}.json`);
  rmSync(file, { force: true });
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  for (let i = 0; i < 50 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as IoCounts;
  } catch {
    return undefined; // no probe loaded in that process
  }
}

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}

async function withPg<T>(url: string, work: (client: PgClient) => Promise<T>): Promise<T> {
  const { Client } = createRequire(new URL('../../packages/api/package.json', import.meta.url))('pg') as { Client: new (options: object) => PgClient };
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `count` empty chatrooms with a user title (no automatic-title jobs), inserted in SQL: tens of thousands in a second or two. */
async function seedRooms(ctx: BenchContext, user: BenchUser, count: number): Promise<string[]> {
  return withPg(ctx.options.databaseUrl, async (client) => {
    const { rows } = await client.query(
      `insert into chatroom (user_id, title, title_source) select $1, 'Accepting ' || n, 'user' from generate_series(1, $2::int) n returning id`,
      [user.userId, count],
    );
    return (rows as Array<{ id: string }>).map((r) => r.id);
  });
}

/**
 * Removes what a phase left behind: its queued jobs (drained from the queue) and its replies (cancelled, so the
 * sweeper does not enqueue them again and no later scenario meets a busy chatroom).
 */
async function clearBacklog(ctx: BenchContext, user: BenchUser): Promise<number> {
  const { Queue } = requireFromShared('bullmq') as { Queue: new (name: string, options: object) => { drain(delayed?: boolean): Promise<void>; close(): Promise<void> } };
  const queue = new Queue('replies', { connection: { url: ctx.options.redisUrl, maxRetriesPerRequest: null }, prefix: ctx.bullPrefix });
  try {
    await queue.drain(true);
  } finally {
    await queue.close();
  }
  return withPg(ctx.options.databaseUrl, async (client) => {
    const { rows } = await client.query(
      `with done as (update message set status = 'cancelled', completed_at = now(), updated_at = now()
         where user_id = $1 and status in ('queued', 'generating') returning 1) select count(*)::int as n from done`,
      [user.userId],
    );
    return (rows[0] as { n: number }).n;
  });
}

/**
 * Replies stored for the user so far: the sends the servers accepted. The load generator's own count misses the
 * requests still in flight when each of its runs stops (up to one per connection, twice).
 */
export async function acceptedSoFar(ctx: BenchContext, user: Pick<BenchUser, 'userId'>): Promise<number> {
  return withPg(ctx.options.databaseUrl, async (client) => {
    const { rows } = await client.query(`select count(*)::int as n from message where user_id = $1 and role = 'assistant'`, [user.userId]);
    return (rows[0] as { n: number }).n;
  });
}

interface PhaseResult {
  max: AutocannonOutcome;
  half: AutocannonOutcome;
  pgPerSend: number;
  /** Per accepted send, idle traffic taken out. */
  api: Rates | undefined;
  worker: Rates | undefined;
  usage: Awaited<ReturnType<typeof runLoad<AutocannonOutcome>>>['usage'];
}

type Rates = Pick<IoCounts, 'pgTransactions' | 'redisRoundTrips' | 'redisCommands'> & { byCommand?: Record<string, number> };
const KEYS = ['pgTransactions', 'redisRoundTrips', 'redisCommands'] as const;

/** (b − a − background over `ms`) / n: the counts per accepted send, the process's idle traffic taken out. */
function perSend(a: IoCounts | undefined, b: IoCounts | undefined, n: number, background: Rates | undefined, ms: number): Rates | undefined {
  if (!a || !b || n <= 0) return undefined;
  const out = {} as Rates;
  for (const key of KEYS) out[key] = (b[key] - a[key] - (background?.[key] ?? 0) * ms) / n;
  // Commands by name (idle traffic not taken out): what the round trips are made of.
  out.byCommand = Object.fromEntries(
    Object.entries(b.byCommand ?? {})
      .map(([name, total]) => [name, Math.round(((total - (a.byCommand?.[name] ?? 0)) / n) * 100) / 100] as const)
      .filter(([, perSend]) => perSend >= 0.01),
  );
  return out;
}

/** What a process does with no load (per ms), over `ms`: housekeeping that is no send's cost. */
async function idleRate(pid: number, dir: string, ms: number): Promise<Rates | undefined> {
  const a = await ioCounts(pid, dir);
  await new Promise((r) => setTimeout(r, ms));
  const b = await ioCounts(pid, dir);
  if (!a || !b) return undefined;
  const out = {} as Rates;
  for (const key of KEYS) out[key] = (b[key] - a[key]) / ms;
  return out;
}

async function phase(ctx: BenchContext, user: BenchUser, probeDir: string, workerRunning: boolean, expectedRps: number): Promise<PhaseResult> {
  const { durationSeconds, warmupSeconds, connections } = ctx.options;
  const sampled = { api: ctx.pids.api, worker: ctx.pids.worker };
  const spec = async (rate: number | undefined, rooms: string[]) => ({
    kind: 'autocannon' as const,
    url: ctx.api,
    method: 'POST' as const,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'Plan a day in Lisbon (bench)' }),
    paths: rooms.map((id) => `/chatroom/${id}/message`),
    rotatePaths: true,
    connections,
    durationSeconds,
    warmupSeconds,
    ...(rate ? { overallRate: rate } : {}),
  });
  const timeout = (durationSeconds + warmupSeconds) * 1000 + 60_000;
  // Chatrooms for every request of the run with room to spare: one send each, so none is ever busy.
  const roomsFor = (rps: number) => Math.ceil(rps * (durationSeconds + warmupSeconds) * 1.5) + connections;

  // The maximum rate, with the I/O counted around it (warm-up included, as the servers saw it).
  const maxRooms = await seedRooms(ctx, user, roomsFor(expectedRps));
  const apiIdle = await idleRate(ctx.pids.api, probeDir, 2000);
  const workerIdle = workerRunning ? await idleRate(ctx.pids.worker, probeDir, 2000) : undefined;
  const acceptedBefore = await acceptedSoFar(ctx, user);
  // The previous phase's half-rate load must be in the counter already, not in this phase's difference.
  await new Promise((r) => setTimeout(r, Math.max(0, halfRateEndedAt + PG_STATS_SETTLE_MS - Date.now())));
  const pgBefore = await ctx.pg.transactions();
  const countedFrom = Date.now();
  const apiBefore = await ioCounts(ctx.pids.api, probeDir);
  const workerBefore = workerRunning ? await ioCounts(ctx.pids.worker, probeDir) : undefined;
  const max = await runLoad<AutocannonOutcome>(await spec(undefined, maxRooms), sampled, timeout);
  await new Promise((r) => setTimeout(r, 1500)); // Postgres publishes its counters with a delay
  const apiAfter = await ioCounts(ctx.pids.api, probeDir);
  const workerAfter = workerRunning ? await ioCounts(ctx.pids.worker, probeDir) : undefined;
  const countedMs = Date.now() - countedFrom;
  // The counter's own reading is one transaction.
  await new Promise((r) => setTimeout(r, PG_STATS_SETTLE_MS - 1500)); // the API's idle connections publish late
  const pgDelta = (await ctx.pg.transactions()) - pgBefore - 1;
  const served = (await acceptedSoFar(ctx, user)) - acceptedBefore;
  const pgPerSend = pgDelta / Math.max(1, served);
  await clearBacklog(ctx, user);

  // The latency at half that rate: an open loop, so the queueing of a saturated server is not what is measured.
  const halfRate = Math.max(1, Math.round(max.outcome.requestsPerSecond / 2));
  const halfRooms = await seedRooms(ctx, user, roomsFor(halfRate));
  const half = await runLoad<AutocannonOutcome>(await spec(halfRate, halfRooms), sampled, timeout);
  halfRateEndedAt = Date.now();
  await clearBacklog(ctx, user);
  return { max: max.outcome, half: half.outcome, pgPerSend, api: perSend(apiBefore, apiAfter, served, apiIdle, countedMs),
    worker: perSend(workerBefore, workerAfter, served, workerIdle, countedMs),
    usage: max.usage,
  };
}

function toRow(id: string, title: string, result: PhaseResult, workerRunning: boolean): ScenarioRow {
  const { max, half } = result;
  const codes = Object.entries(max.statusCodes).map(([code, count]) => `${code}×${count}`).join(' ');
  const notes = [
    `status ${codes || 'none'}`,
    `at half that rate (${Math.round(max.requestsPerSecond / 2)} req/s): p50 ${half.latencyMs.p50.toFixed(2)} ms, p99 ${half.latencyMs.p99.toFixed(2)} ms`,
    `per accepted send: PG xact ${result.pgPerSend.toFixed(2)}, API Redis round trips ${result.api?.redisRoundTrips.toFixed(2) ?? 'n/a'} (${result.api?.redisCommands.toFixed(2) ?? 'n/a'} commands)` +
      (workerRunning ? `, worker Redis round trips ${result.worker?.redisRoundTrips.toFixed(2) ?? 'n/a'}, worker PG xact ${result.worker?.pgTransactions.toFixed(2) ?? 'n/a'}` : ''),
  ];
  const commands = (rates: Rates | undefined) => Object.entries(rates?.byCommand ?? {}).map(([name, perSend]) => `${name} ${perSend}`).join(', ');
  notes.push(`API Redis commands per send: ${commands(result.api) || 'n/a'}`);
  if (workerRunning) notes.push(`worker Redis commands per send: ${commands(result.worker) || 'n/a'}`);
  if (max.socketErrors) notes.push(`${max.socketErrors} socket errors/timeouts`);
  return row(id, title, `POST (202), a fresh chatroom per request, worker ${workerRunning ? 'running' : 'paused (SIGSTOP)'}`, {
    rps: max.requestsPerSecond,
    p50Ms: max.latencyMs.p50,
    p99Ms: max.latencyMs.p99,
    errors: max.socketErrors + max.errorResponses,
    rssMb: result.usage.byName.api?.peakRssMb ?? null,
    cpuPercent: result.usage.byName.api?.cpuPercent ?? null,
    loadCpuPercent: result.usage.byName.load?.cpuPercent ?? null,
    machine: result.usage.machine,
    pgPerRequest: result.pgPerSend,
    notes,
    details: {
      halfRate: Math.round(max.requestsPerSecond / 2),
      halfRateP50Ms: half.latencyMs.p50,
      halfRateP99Ms: half.latencyMs.p99,
      halfRateErrors: half.socketErrors + half.errorResponses,
      pgPerSend: result.pgPerSend,
      apiPerSend: result.api,
      workerPerSend: result.worker,
      max,
      half,
    },
  });
}

/** Both phases; the worker is paused for the first and always resumed. `probeDir`: where the I/O probe writes. */
export async function sendAccept(ctx: BenchContext, probeDir: string, expectedRps = 6000): Promise<{ rows: ScenarioRow[] }> {
  const user = await signUp(ctx.api, 'Bench accept');
  const rows: ScenarioRow[] = [];
  process.kill(ctx.pids.worker, 'SIGSTOP');
  let paused: PhaseResult;
  try {
    paused = await phase(ctx, user, probeDir, false, expectedRps);
  } finally {
    process.kill(ctx.pids.worker, 'SIGCONT');
  }
  rows.push(toRow('send-accept-paused', 'POST message → 202 (worker paused)', paused, false));
  const running = await phase(ctx, user, probeDir, true, Math.max(paused.max.requestsPerSecond, 100));
  rows.push(toRow('send-accept-running', 'POST message → 202 (worker running)', running, true));
  return { rows };
}

/** The send path's targets from the rows of this run (n/a when their scenario did not run). */
export function sendPathTargets(rows: ScenarioRow[], extra: { streamsTotalRss?: number; streams: number }): TargetCheck[] {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const checks: TargetCheck[] = [];
  const check = (target: string, actual: string | undefined, pass: boolean | undefined) =>
    checks.push({ target, actual: actual ?? 'not measured', status: pass === undefined ? 'n/a' : pass ? 'pass' : 'miss' });
  const paused = byId.get('send-accept-paused');
  const details = paused?.details as { halfRateP99Ms?: number; halfRate?: number; pgPerSend?: number; apiPerSend?: Rates } | undefined;
  check(`send accepted (202, worker paused) ≥ ${SEND_TARGETS.acceptRps} req/s`, paused?.rps != null ? `${Math.round(paused.rps)} req/s` : undefined, paused?.rps != null ? paused.rps >= SEND_TARGETS.acceptRps : undefined);
  check(
    `send accepted: p99 ≤ ${SEND_TARGETS.halfRateP99Ms} ms at half the max rate`,
    details?.halfRateP99Ms !== undefined ? `p99 ${details.halfRateP99Ms.toFixed(1)} ms at ${details.halfRate} req/s` : undefined,
    details?.halfRateP99Ms !== undefined ? details.halfRateP99Ms <= SEND_TARGETS.halfRateP99Ms : undefined,
  );
  check(
    `≤ ${SEND_TARGETS.pgPerSend} Postgres transactions per accepted send`,
    details?.pgPerSend !== undefined ? details.pgPerSend.toFixed(2) : undefined,
    details?.pgPerSend !== undefined ? Math.round(details.pgPerSend * 10) / 10 <= SEND_TARGETS.pgPerSend : undefined,
  );
  const redis = details?.apiPerSend?.redisRoundTrips;
  check(`≤ ${SEND_TARGETS.redisPerSend} Redis round trips per accepted send (API)`, redis !== undefined ? redis.toFixed(2) : undefined, redis !== undefined ? redis <= SEND_TARGETS.redisPerSend + 0.05 : undefined);
  const sent = byId.get('send');
  check(`POST → completed ≥ ${SEND_TARGETS.completedRps} replies/s (3× 165)`, sent?.rps != null ? `${Math.round(sent.rps)} replies/s` : undefined, sent?.rps != null ? sent.rps >= SEND_TARGETS.completedRps : undefined);
  check(
    `≤ ${SEND_TARGETS.pgPerPrompt} Postgres transactions per prompt, send → completed`,
    sent?.pgPerRequest != null ? sent.pgPerRequest.toFixed(2) : undefined,
    // To a tenth: the counter also sees the processes' periodic work (sweeps), a few transactions per run.
    sent?.pgPerRequest != null ? Math.round(sent.pgPerRequest * 10) / 10 <= SEND_TARGETS.pgPerPrompt : undefined,
  );
  check(
    `250 simultaneous generations < ${SEND_TARGETS.generationsPeakMb} MB (API + worker peak)`,
    extra.streamsTotalRss !== undefined ? `${Math.round(extra.streamsTotalRss)} MB with ${extra.streams} streams` : undefined,
    extra.streamsTotalRss !== undefined ? extra.streamsTotalRss < SEND_TARGETS.generationsPeakMb : undefined,
  );
  return checks;
}

/** The one summary at the end of a run: a PASS / MISS (or N/A) line per target. */
export function printTargetSummary(targets: TargetCheck[]): void {
  console.log('\ntargets:');
  for (const t of targets) console.log(`${t.status === 'pass' ? 'PASS' : t.status === 'miss' ? 'MISS' : 'N/A '}  ${t.target} — ${t.actual}`);
}
