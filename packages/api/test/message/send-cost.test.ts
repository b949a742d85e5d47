import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, countIo, signIn, type IoCount, type IoCounter, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// What one accepted send costs the API in Postgres transactions and Redis round trips. No worker runs here (a
// worker's I/O would be counted too): the reply stays queued, as with a paused worker. The counts are exact, so
// a change that adds a query or a command to the send path fails this test until the budget is argued anew.
const PG_TRANSACTIONS_PER_SEND = 2;
// Inside that transaction (BEGIN and COMMIT included): the round trips to Postgres a send waits for. Today one
// transaction of 7 statements, 9 with an Idempotency-Key (its claim and its recorded response).
const PG_STATEMENTS_PER_SEND = { plain: 7, keyed: 9 };
// Quota check-and-charge (one script), the job (one script), list-cache invalidation (one MULTI).
const REDIS_ROUND_TRIPS_PER_SEND = 3;

let t: TestApp;
let user: SignedIn;
let io: IoCounter;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '1000' });
  user = await signIn(t.app);
  io = countIo();
});
afterAll(async () => {
  io.stop();
  await t.close();
});

const createRoom = async () => (await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'Room' }, headers: user.auth })).json().id as string;

/** The I/O of one send to a fresh chatroom (created before counting starts). */
async function costOfSend(headers: Record<string, string> = {}, expected = 202): Promise<IoCount> {
  const roomId = await createRoom();
  io.reset();
  const res = await t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'Hello' }, headers: { ...user.auth, ...headers } });
  const cost = io.read();
  expect(res.statusCode).toBe(expected);
  return cost;
}

describe('the cost of an accepted send', () => {
  beforeAll(async () => {
    // The first send loads scripts and opens pool connections: not what every send costs.
    await costOfSend();
    await costOfSend({ 'idempotency-key': randomUUID() });
  });

  it.each([
    ['without an Idempotency-Key', false],
    ['with an Idempotency-Key', true],
  ])('%s: within the Postgres and Redis budgets', async (_, keyed: boolean) => {
    for (let i = 0; i < 3; i++) {
      const cost = await costOfSend(keyed ? { 'idempotency-key': randomUUID() } : {});
      expect(cost.pgTransactions, JSON.stringify(cost)).toBeLessThanOrEqual(PG_TRANSACTIONS_PER_SEND);
      expect(cost.pgStatements, JSON.stringify(cost)).toBeLessThanOrEqual(keyed ? PG_STATEMENTS_PER_SEND.keyed : PG_STATEMENTS_PER_SEND.plain);
      expect(cost.redisRoundTrips, JSON.stringify(cost)).toBeLessThanOrEqual(REDIS_ROUND_TRIPS_PER_SEND);
    }
  });

  it('a replayed send costs no more than a send', async () => {
    const roomId = await createRoom();
    const key = randomUUID();
    const send = () => t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'Hi' }, headers: { ...user.auth, 'idempotency-key': key } });
    expect((await send()).statusCode).toBe(202);
    io.reset();
    expect((await send()).statusCode).toBe(202);
    const cost = io.read();
    expect(cost.pgTransactions, JSON.stringify(cost)).toBeLessThanOrEqual(PG_TRANSACTIONS_PER_SEND);
    expect(cost.redisRoundTrips, JSON.stringify(cost)).toBeLessThanOrEqual(REDIS_ROUND_TRIPS_PER_SEND);
  });
});
