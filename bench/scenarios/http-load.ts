// Scenarios 1–5: closed-loop HTTP load with autocannon (in the separate load process).
import type { AutocannonOutcome, AutocannonSpec } from '../load-worker.js';
import { createChatrooms } from '../lib/api-client.js';
import { runLoad, type LoadRun } from '../lib/load.js';
import { acceptedSoFar } from './send-accept.js';
import { growChatroom } from '../lib/volume.js';
import { row, type BenchContext, type ScenarioRow } from './types.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function load(ctx: BenchContext, spec: Omit<AutocannonSpec, 'kind' | 'durationSeconds' | 'warmupSeconds'>, sampled: Record<string, number>) {
  const { durationSeconds, warmupSeconds } = ctx.options;
  return runLoad<AutocannonOutcome>(
    { kind: 'autocannon', durationSeconds, warmupSeconds, ...spec },
    sampled,
    (durationSeconds + warmupSeconds) * 1000 + 60_000,
  );
}

function toRow(id: string, title: string, measures: string, run: LoadRun<AutocannonOutcome>, server: string): ScenarioRow {
  const { outcome, usage } = run;
  const notes: string[] = [];
  const codes = Object.entries(outcome.statusCodes).map(([code, count]) => `${code}×${count}`).join(' ');
  notes.push(`status ${codes || 'none'}`);
  if (outcome.socketErrors) notes.push(`${outcome.socketErrors} socket errors/timeouts`);
  if (outcome.notCompleted) notes.push(`${outcome.notCompleted} replies not completed`);
  return row(id, title, measures, {
    rps: outcome.requestsPerSecond,
    p50Ms: outcome.latencyMs.p50,
    p99Ms: outcome.latencyMs.p99,
    errors: outcome.socketErrors + outcome.errorResponses + outcome.notCompleted,
    rssMb: usage.byName[server]?.peakRssMb ?? null,
    cpuPercent: usage.byName[server]?.cpuPercent ?? null,
    loadCpuPercent: usage.byName.load?.cpuPercent ?? null,
    machine: usage.machine,
    requestsServed: outcome.ok + outcome.errorResponses + outcome.warmupResponses,
    notes,
    details: { outcome, usage },
  });
}

/** 1. The ceiling: a bare Fastify route serving the same bytes as the cached list. */
export async function ceiling(ctx: BenchContext): Promise<ScenarioRow> {
  if (!ctx.ceilingUrl || !ctx.pids.ceiling) throw new Error('ceiling server not started');
  const run = await load(ctx, { url: `${ctx.ceilingUrl}/chatroom`, method: 'GET', headers: {}, connections: ctx.options.connections }, {
    ceiling: ctx.pids.ceiling,
  });
  const r = toRow('ceiling', 'ceiling: bare Fastify, same JSON', 'GET of a constant body (no auth, no I/O)', run, 'ceiling');
  r.notes.push('RSS/CPU columns: the ceiling process');
  return r;
}

/**
 * 1b. The API's own stack with no I/O: GET /health (its hooks, plugins, serialisation; a 15-byte body). Between
 * the ceiling and the real routes: the gap to the ceiling is the framework setup, the rest is the routes' I/O.
 */
export async function health(ctx: BenchContext): Promise<ScenarioRow> {
  const run = await load(ctx, { url: `${ctx.api}/health`, method: 'GET', headers: {}, connections: ctx.options.connections }, { api: ctx.pids.api });
  return toRow('health', 'API floor: GET /health', 'the API app, no auth, no I/O, 15-byte body', run, 'api');
}

/** 2. GET /chatroom served from the per-user Redis cache (a user with ~20 chatrooms). */
export async function list(ctx: BenchContext): Promise<ScenarioRow> {
  const { reader } = ctx.seed;
  const run = await load(ctx, { url: `${ctx.api}/chatroom`, method: 'GET', headers: bearer(reader.token), connections: ctx.options.connections }, {
    api: ctx.pids.api,
  });
  return toRow('list', 'GET /chatroom (cached)', `auth + cached page of ${ctx.seed.readerRooms.length} chatrooms`, run, 'api');
}

const LONG_CHATROOM_MESSAGES = 10_000;

/**
 * 3. GET /chatroom/:id: a chatroom and its newest messages, read again and again, so served from the API process's
 * memory after the first read (Postgres on a miss); then the same on a chatroom of 10,000 messages, which must cost
 * the same (a page is read by walking up from the newest message, never by scanning).
 */
export async function detail(ctx: BenchContext): Promise<ScenarioRow> {
  const { reader, detailRoom } = ctx.seed;
  const loadRoom = (id: string) =>
    load(ctx, { url: `${ctx.api}/chatroom/${id}`, method: 'GET', headers: bearer(reader.token), connections: ctx.options.connections }, { api: ctx.pids.api });
  const run = await loadRoom(detailRoom);
  const [longRoom] = await createChatrooms(ctx.api, reader, 1, 'Long');
  await growChatroom(ctx.options.databaseUrl, longRoom!, LONG_CHATROOM_MESSAGES);
  const long = await loadRoom(longRoom!);
  const r = toRow('detail', 'GET /chatroom/:id', 'auth + chatroom + newest messages (process memory; Postgres on a change)', run, 'api');
  const small = run.outcome.latencyMs;
  const large = long.outcome.latencyMs;
  r.notes.push(
    `${LONG_CHATROOM_MESSAGES.toLocaleString('en')}-message chatroom: ${Math.round(long.outcome.requestsPerSecond)} req/s, p50 ${large.p50.toFixed(1)} ms, p99 ${large.p99.toFixed(1)} ms (small: p50 ${small.p50.toFixed(1)} ms)`,
  );
  r.details.longChatroom = { messages: LONG_CHATROOM_MESSAGES, outcome: long.outcome, usage: long.usage };
  if (r.requestsServed !== null) r.requestsServed += long.outcome.ok + long.outcome.errorResponses + long.outcome.warmupResponses;
  return r;
}

/** 4. GET /user/me: the user and today's usage. */
export async function me(ctx: BenchContext): Promise<ScenarioRow> {
  const run = await load(ctx, { url: `${ctx.api}/user/me`, method: 'GET', headers: bearer(ctx.seed.reader.token), connections: ctx.options.connections }, {
    api: ctx.pids.api,
  });
  return toRow('me', 'GET /user/me', 'auth + user, quota and token usage (process memory; Redis + Postgres on a change)', run, 'api');
}

/**
 * 5. POST /chatroom/:id/message with `Prefer: wait=30`: the response comes when the reply is final, so its
 * latency is POST → reply completed, end to end (API, queue, worker, fake model at zero latency, Postgres,
 * notification back). One chatroom per connection: a chatroom holds one pending reply at a time.
 */
export async function send(ctx: BenchContext): Promise<{ row: ScenarioRow; window: { fromMs: number; toMs: number } }> {
  const { sender, senderRooms } = ctx.seed;
  const storedBefore = await acceptedSoFar(ctx, sender);
  const started = Date.now();
  const run = await load(
    ctx,
    {
      url: ctx.api,
      method: 'POST',
      headers: { ...bearer(sender.token), 'content-type': 'application/json', prefer: 'wait=30' },
      body: JSON.stringify({ content: 'Plan a day in Lisbon (bench)' }),
      paths: senderRooms.map((id) => `/chatroom/${id}/message`),
      connections: senderRooms.length,
      timeoutSeconds: 35,
      expectCompletedReply: true,
    },
    { api: ctx.pids.api, worker: ctx.pids.worker },
  );
  const r = toRow('send', 'POST message → reply completed', `Prefer: wait=30, ${senderRooms.length} chatrooms in parallel`, run, 'api');
  // The prompts the servers took: autocannon does not count those in flight when each of its runs stops (up to one
  // per chatroom, twice), which the servers still answer, so "per request" counters would be inflated by them.
  await new Promise((resolve) => setTimeout(resolve, 500));
  r.requestsServed = (await acceptedSoFar(ctx, sender)) - storedBefore;
  const worker = run.usage.byName.worker;
  if (worker) r.notes.push(`worker CPU ${Math.round(worker.cpuPercent)} %, RSS peak ${Math.round(worker.peakRssMb)} MB`);
  return { row: r, window: { fromMs: run.markTimes['measure-start'] ?? started, toMs: run.markTimes['measure-end'] ?? Date.now() } };
}
