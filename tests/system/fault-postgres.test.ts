// Fault: Postgres connections of this test's API and worker are terminated with pg_terminate_backend. Only this
// test's backends are touched: they carry an application_name of their own, set through the connection URL (no
// application change needed), and the query also pins the database and spares the test's own connection.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '@gemini-chat/shared';
import { http, signInOver, startStack, testDatabaseUrl, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import { audit, waitFinal, type Accepted } from './support/ledger.js';
import { misbehaviours, startLoad, startReads, type Exchange } from './support/load.js';
import { sleep } from './support/procs.js';

const APP_NAME = `reliability_pg_${randomBytes(4).toString('hex')}`;
const withAppName = (url: string, name: string) => {
  const u = new URL(url);
  u.searchParams.set('application_name', name);
  return u.toString();
};

let s: Stack;
let killer: ReturnType<typeof createDb>;
let base: string;
let user: SignedIn;
const ROOMS = 6;
const rooms: string[] = [];
/** Every send accepted in this file, for the audits. */
const allAccepted: Accepted[] = [];

beforeAll(async () => {
  s = await startStack({
    DATABASE_URL: withAppName(testDatabaseUrl(), APP_NAME),
    QUOTA_BASIC_DAILY: '500',
    // No background queries (worker sweeper, billing sweep) while idle connections are being terminated.
    SWEEP_INTERVAL_MS: '600000',
    BILLING_SWEEP_INTERVAL_SECONDS: '3600',
  }, { startWorker });
  // The test's own connection, under another name, so it never terminates itself.
  killer = createDb({ ...s.config.database, url: withAppName(testDatabaseUrl(), `${APP_NAME}_killer`), schema: undefined });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  user = await signInOver(base);
  // Titled by the user, so no automatic-title job touches the database after the replies.
  for (let i = 0; i < ROOMS; i++) {
    rooms.push(((await http(base, 'POST', '/chatroom', { headers: user.auth, body: { title: `room ${i}` } })).json() as { id: string }).id);
  }
});

afterAll(async () => {
  await killer?.destroy();
  await s?.close();
});

/** Terminates backends of this test's API and worker (never anyone else's); returns how many. */
async function terminateOurBackends(): Promise<number> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity
    where application_name = ${APP_NAME} and datname = current_database() and pid <> pg_backend_pid()`.execute(killer);
  if (!rows.length) return 0;
  const killed = await sql<{ ok: boolean }>`select pg_terminate_backend(pid) as ok from unnest(${rows.map((r) => r.pid)}::int[]) as pid`.execute(killer);
  return killed.rows.filter((r) => r.ok).length;
}

async function quotaUsed(): Promise<number> {
  const me = await http(base, 'GET', '/user/me', { headers: user.auth });
  expect(me.status).toBe(200);
  return (me.json() as { usage: { used: number } }).usage.used;
}

describe('Postgres connections terminated', () => {
  it('connections dropped while pooled (failover, pooler restart) are replaced by themselves: no error, nothing lost', async () => {
    const exchanges: Exchange[] = [];
    const accepted = allAccepted;
    let terminated = 0;
    for (let cycle = 0; cycle < 3; cycle++) {
      const load = startLoad(base, user, rooms, { tag: `pg-idle-${cycle}`, suffix: '[[chunks:3]] [[slow:20 first=10]]' });
      const deadline = Date.now() + 10_000;
      while (load.accepted.length < ROOMS * 2) {
        if (Date.now() > deadline) throw new Error('the load never got going');
        await sleep(20);
      }
      await load.stop();
      exchanges.push(...load.exchanges);
      accepted.push(...load.accepted);
      await waitFinal(s.db, accepted.map((a) => a.replyId), 10_000);
      // Quiet now: every connection of the API and the worker sits idle in its pool. Drop them all.
      await sleep(100);
      terminated += await terminateOurBackends();
      await sleep(200);
    }
    expect(terminated).toBeGreaterThanOrEqual(3);
    // The next requests get fresh connections: every exchange succeeded, none was refused.
    expect(misbehaviours(exchanges, 5000)).toEqual([]);
    expect(exchanges.filter((e) => e.status !== 200 && e.status !== 202)).toEqual([]);
    const result = await audit(s.db, user.userId, accepted);
    expect(result.problems).toEqual([]);
    expect(result.completed).toBe(accepted.length);
    expect(await quotaUsed()).toBe(accepted.length);
  }, 40_000);

  // BUG-4 (fixed in fdee6c2): a backend terminated while its pg client was checked out of the pool without a running
  // query (its FATAL can arrive in the same socket read as the ReadyForQuery of the query that just finished, or
  // while a request holds the client across other I/O) made pg emit 'error' on a Client nobody listened to: an
  // uncaught exception that killed the API or worker process ("Unhandled 'error' event", exit 1). createDb now
  // attaches an 'error' listener to every client on the pool's 'connect' event; the client's next query fails
  // (503) and the pool drops it.
  it('BUG-4: connections terminated mid-load give 503s (never a crash, 500 or hang), heal by themselves, and lose no reply', midLoadTerminations, 40_000);
});

/**
 * The BUG-4 scenario: the test's own backends are terminated again and again while sends, reply polls and plain
 * reads are in flight, in the API and in the worker. The API and the worker run in this process, so an 'error'
 * nobody listens to would be an uncaught exception here: it is recorded and must not happen.
 */
async function midLoadTerminations(): Promise<void> {
  const uncaught: string[] = [];
  const onUncaught = (err: unknown) => void uncaught.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  process.on('uncaughtException', onUncaught);
  const load = startLoad(base, user, rooms, { tag: 'pg-mid', suffix: '[[chunks:5]] [[slow:60 first=20]]' });
  // Reads that need Postgres only (a chatroom, its messages) and Postgres and Redis (the list, the profile).
  const reads = startReads(base, user, ['/chatroom', `/chatroom/${rooms[0]}`, `/chatroom/${rooms[1]}/messages`, '/user/me']);
  try {
    const deadline = Date.now() + 10_000;
    while (load.accepted.length < ROOMS) {
      if (Date.now() > deadline) throw new Error('the load never got going');
      await sleep(20);
    }
    // Ten rounds of terminations, 250 ms apart, while sends, polls, reads and replies are in flight.
    let terminated = 0;
    for (let round = 0; round < 10; round++) {
      terminated += await terminateOurBackends();
      await sleep(250);
    }
    const calmAt = Date.now();
    expect(terminated).toBeGreaterThan(10);
    // It heals by itself: every conversation gets a send accepted again, nothing restarted.
    const healDeadline = Date.now() + 15_000;
    while (rooms.some((_, room) => load.acceptedIn(room, calmAt) < 1)) {
      if (Date.now() > healDeadline) throw new Error(`not healed: ${rooms.map((_, room) => load.acceptedIn(room, calmAt)).join(',')}`);
      await sleep(50);
    }
    await load.stop();
    await reads.stop();
    allAccepted.push(...load.accepted);
    await waitFinal(s.db, allAccepted.map((a) => a.replyId), 20_000);
    // No process crash: in a process of its own, any of these would have ended the API or the worker.
    expect(uncaught).toEqual([]);

    // Every answer arrived in time and was a success or a documented refusal: 503 problem+json with Retry-After
    // (a query that lost its connection), never a 500, a 4xx or a dropped connection; after the terminations,
    // successes only.
    const exchanges = [...load.exchanges, ...reads.exchanges];
    expect(misbehaviours(exchanges, 5000)).toEqual([]);
    const unexpected = exchanges.filter((e) => !(e.status === 200 || e.status === 202 || (e.status === 503 && e.code === 'SERVICE_UNAVAILABLE')));
    expect(unexpected.map((e) => `${e.kind} ${e.room}: ${e.status} ${e.code ?? ''}`)).toEqual([]);
    expect(exchanges.filter((e) => e.startedAt > calmAt + 500 && e.status !== 200 && e.status !== 202)).toEqual([]);

    // Every accepted send (this scenario's and the earlier test's): exactly one final reply, whole when
    // completed, refunded only when it failed without text; the quota counts the units charged minus refunds.
    const result = await audit(s.db, user.userId, allAccepted);
    expect(result.problems).toEqual([]);
    expect(await quotaUsed()).toBe(result.replies.length - result.refunded);
  } finally {
    // Also when an assertion failed early: no client loop may outlive the test.
    await Promise.all([load.stop(), reads.stop()]);
    process.off('uncaughtException', onUncaught);
  }
}
