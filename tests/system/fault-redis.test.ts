// Fault: the Redis server crashes (SIGKILL) and comes back empty on the same port during a stream of sends.
// The API and the worker run in this process against a Redis server of the test's own (never the shared one).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, readSseResuming, shownText, signInOver, startStack, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import { audit, waitFinal } from './support/ledger.js';
import { misbehaviours, startLoad } from './support/load.js';
import { sleep, startOwnRedis, type OwnRedis } from './support/procs.js';

let redis: OwnRedis;
let s: Stack;
let base: string;
let user: SignedIn;
const ROOMS = 6;
/** ROOMS rooms for the load, and one more for probing sends during the outage. */
const rooms: string[] = [];

beforeAll(async () => {
  redis = await startOwnRedis();
  s = await startStack({
    REDIS_URL: redis.url,
    REDIS_COMMAND_TIMEOUT_MS: '1000',
    QUOTA_BASIC_DAILY: '500',
    SWEEP_INTERVAL_MS: '250',
    SWEEP_PENDING_AFTER_SECONDS: '2',
    SSE_HEARTBEAT_SECONDS: '1',
  }, { startWorker });
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
  it('answers 503 (never 500, never a hang) while it is down, heals by itself, and every accepted send gets one whole reply', async () => {
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
    // Sends keep being refused, quickly, for as long as it is down (a room of their own: the load's rooms may all
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

    // Every accepted send: exactly one reply, completed, its text whole (not doubled). Replies that were being
    // streamed when Redis died are retried and completed (their jobs, lost with Redis, come back by the sweeper).
    await waitFinal(s.db, load.accepted.map((a) => a.replyId), 20_000);
    const result = await audit(s.db, user.userId, load.accepted);
    expect(result.problems).toEqual([]);
    expect(result.replies.filter((r) => r.status !== 'completed').map((r) => `${r.status} ${r.error_code}`)).toEqual([]);

    // Quota: the restart lost the counter, and it was rebuilt from Postgres: it counts every unit charged today,
    // before the crash too, minus their refunds (a fresh quota after a restart would be a free one).
    const me = await http(base, 'GET', '/user/me', { headers: user.auth });
    expect(me.status).toBe(200);
    const usage = (me.json() as { usage: { used: number; resetsAt: string } }).usage;
    const today = new Date(Date.parse(usage.resetsAt) - 86_400_000).toISOString().slice(0, 10);
    const chargedToday = result.replies.filter((r) => r.quota_day === today);
    expect(usage.used).toBe(chargedToday.filter((r) => !r.refunded_at).length);
  }, 40_000);

  // BUG-2 (fixed): the live log is lost with the restart, so the retried run's claim found no stream and appended
  // no `reset`; a client that already had the first chunks then got the whole reply again after them. A retry
  // (reply.attempts > 1) now always starts the log with `reset`, whether or not the log survived.
  it('BUG-2: a stream watched across a Redis restart carries a reset before the retried run, so the client text is not doubled', streamWatchedAcrossRestart, 40_000);
});

/** The BUG-2 scenario: a client watching a reply while Redis restarts ends up showing exactly the stored text. */
async function streamWatchedAcrossRestart(): Promise<void> {
  // A room titled by the user: an automatic-title job would send the prompt's pacing markers to the model again
  // and keep the worker busy for ten seconds after the test.
  const room = ((await http(base, 'POST', '/chatroom', { headers: user.auth, body: { title: 'watched' } })).json() as { id: string }).id;
  // Three seconds between chunks: Redis dies and is back between the first chunk and the second. (Three chunks
  // only: the retried run streams them all again at that pace.)
  const sent = await http(base, 'POST', `/chatroom/${room}/message`, { headers: user.auth, body: { content: 'watched across a restart [[chunks:3]] [[slow:3000 first=100]]' } });
  expect(sent.status).toBe(202);
  const { links, reply } = sent.json() as { links: { stream: string }; reply: { id: string } };
  let deltasSeen = 0;
  // Read as EventSource and the SDK do: the API ends a stream whose Redis read fails (the outage may catch it
  // between two heartbeats), and the client resumes after its last event id, across the restart.
  const watching = readSseResuming(`${base}${links.stream}`, user.auth, { timeoutMs: 30_000, onEvent: (e) => void (e.event === 'delta' && deltasSeen++) });
  while (deltasSeen < 1) await sleep(20);
  await sleep(200);
  await redis.kill();
  await sleep(300);
  await redis.start();
  const { events, ended } = await watching;
  const [row] = await waitFinal(s.db, [reply.id], 20_000);
  expect(row!.status).toBe('completed');
  expect(ended).toBe('final');
  // The retried run started the log over with a `reset` after the first run's text, so the client shows the
  // stored reply once, not the first chunk followed by the whole reply.
  expect(row!.attempts).toBeGreaterThan(1);
  const firstReset = events.findIndex((e) => e.event === 'reset');
  expect(firstReset).toBeGreaterThan(events.findIndex((e) => e.event === 'delta'));
  expect(shownText(events)).toBe(row!.content);
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}
