// Fault: the Redis server crashes (SIGKILL) and comes back empty on the same port during a stream of sends.
// The API and the worker run in this process against a Redis server of the test's own (never the shared one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/stack.js';
import { http, signInOver, type HttpUser } from './support/http.js';
import { audit, waitFinal } from './support/ledger.js';
import { misbehaviours, startLoad } from './support/load.js';
import { sleep, startOwnRedis, type OwnRedis } from './support/procs.js';

let redis: OwnRedis;
let s: Stack;
let base: string;
let user: HttpUser;
const ROOMS = 6;
const rooms: string[] = [];

beforeAll(async () => {
  redis = await startOwnRedis();
  s = await startStack({
    REDIS_URL: redis.url,
    REDIS_COMMAND_TIMEOUT_MS: '1000',
    QUOTA_BASIC_DAILY: '500',
    SWEEP_INTERVAL_MS: '250',
    SWEEP_PENDING_AFTER_SECONDS: '2',
  });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  user = await signInOver(base);
  for (let i = 0; i <= ROOMS; i++) rooms.push(((await http(base, 'POST', '/chatroom', { headers: user.auth, body: {} })).json() as { id: string }).id);
});

afterAll(async () => {
  if (redis && !redis.running) await redis.start(); // the cleanup deletes the test's keys
  await s?.close();
  await redis?.kill();
});

describe('Redis crashes and restarts empty during a stream of sends', () => {
  it('answers 503 (never 500, never a hang) while it is down, heals by itself, and every accepted send gets one final reply', async () => {
    const loadRooms = rooms.slice(0, ROOMS);
    const load = startLoad(base, user, loadRooms, { tag: 'redis', suffix: '[[chunks:4]] [[slow:40 first=20]]' });
    // Healthy traffic first, with at least one reply being streamed by the model when Redis dies.
    const deadline = Date.now() + 10_000;
    while (load.accepted.length < ROOMS || !s.gemini.requests.some((r) => r.outcome === 'pending' && r.eventsSent >= 1)) {
      if (Date.now() > deadline) throw new Error('the load never got going');
      await sleep(20);
    }

    await redis.kill();
    const downAt = Date.now();
    // While it is down: Redis-backed routes refuse at once with 503; Postgres-only reads still answer.
    const probes = await Promise.all([
      http(base, 'GET', '/ready'),
      http(base, 'GET', '/user/me', { headers: user.auth }),
      http(base, 'GET', '/chatroom', { headers: user.auth }),
      http(base, 'POST', '/chatroom', { headers: user.auth, body: { title: 'during the outage' } }),
      http(base, 'GET', `/chatroom/${rooms[0]}`, { headers: user.auth }),
    ]);
    expect(probes.map((p) => p.status)).toEqual([503, 503, 503, 503, 200]);
    for (const p of probes) expect(p.ms).toBeLessThan(4000);
    // Sends keep being refused, quickly, for as long as it is down (a room of its own: the load's rooms may all
    // be waiting on replies at this moment).
    const spare = rooms[ROOMS]!;
    for (let i = 0; i < 5; i++) {
      const refused = await http(base, 'POST', `/chatroom/${spare}/message`, { headers: { ...user.auth, 'idempotency-key': `outage-${i}` }, body: { content: `during the outage ${i}` } });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.ms).toBeLessThan(4000);
      await sleep(300);
    }
    await sleep(500);

    const restartAt = Date.now(); // before the start: nothing can be charged on the new server earlier
    await redis.start();
    // It heals by itself: every conversation gets a prompt accepted again, nothing restarted.
    const healDeadline = Date.now() + 15_000;
    while (loadRooms.some((_, room) => load.acceptedIn(room, restartAt) < 1)) {
      if (Date.now() > healDeadline) throw new Error(`not healed: ${loadRooms.map((_, room) => load.acceptedIn(room, restartAt)).join(',')}`);
      await sleep(50);
    }
    await sleep(300);
    await load.stop();

    // Every exchange was a success or a documented refusal (503 problem + Retry-After), within a few seconds.
    expect(misbehaviours(load.exchanges, 5000)).toEqual([]);
    // Any send of the load made while it was down was refused the same way.
    const duringOutage = load.exchanges.filter((e) => e.kind === 'send' && e.startedAt > downAt + 1500 && e.endedAt < restartAt);
    for (const e of duringOutage) expect(`${e.status} ${e.code}`).toBe('503 SERVICE_UNAVAILABLE');

    // Every accepted send: exactly one reply, final, its text whole (not doubled), refunded if it failed empty.
    await waitFinal(s.db, load.accepted.map((a) => a.replyId), 20_000);
    const result = await audit(s.db, user.userId, load.accepted, {
      // BUG-1 (see the it.todo below): a reply being streamed when Redis dies fails at once with INTERNAL_ERROR.
      knownBug: (reply) => (reply.error_code === 'INTERNAL_ERROR' && reply.updated_at.getTime() >= downAt - 1000 ? 'BUG-1' : undefined),
    });
    expect(result.problems).toEqual([]);
    expect(result.completed).toBeGreaterThan(ROOMS);

    // Quota: the counter lives in Redis, so a restart without persistence loses it (noted in docs/reliability.md);
    // from then on it counts exactly the units charged after the restart minus their refunds.
    const me = await http(base, 'GET', '/user/me', { headers: user.auth });
    expect(me.status).toBe(200);
    const chargedSinceRestart = result.replies.filter((r) => r.created_at.getTime() >= restartAt);
    const refundedSinceRestart = chargedSinceRestart.filter((r) => r.refunded_at);
    expect((me.json() as { usage: { used: number } }).usage.used).toBe(chargedSinceRestart.length - refundedSinceRestart.length);
  }, 40_000);

  // BUG-1: the worker classifies every non-Gemini error as a permanent INTERNAL_ERROR (classify-error.ts), so a
  // reply being generated when Redis (or Postgres) blips is failed at once instead of retried; when it had no
  // text yet, its quota unit is not refunded either (fail() throws on the Redis append before refunding).
  it.todo('BUG-1: a reply being generated when Redis fails is retried after the outage and completes (no INTERNAL_ERROR, no lost charge)');

  // BUG-2: the live log is lost with the restart; the new run's claim finds no stream, so it appends no `reset`
  // and an SSE client that already had the first chunks receives the whole reply again after them.
  it.todo('BUG-2: a stream watched across a Redis restart carries a reset before the retried run, so the client text is not doubled');
});
