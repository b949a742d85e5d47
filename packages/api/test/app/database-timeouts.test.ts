import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { errorsPlugin } from '../../src/plugins/errors.plugin.js';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// A statement that runs out of time (statement_timeout, SQLSTATE 57014) or cannot get its lock (lock_timeout or
// NOWAIT, 55P03) is Postgres too busy to answer now: 503 with Retry-After, like any dependency outage, not a 500.

let t: TestApp;
let user: SignedIn;
beforeAll(async () => {
  t = await buildTestApp();
  user = await signIn(t.app);
});
afterAll(() => t.close());

/** Runs `work` while this test holds the user's row lock in a transaction of its own. */
async function whileRowLocked<T>(userId: string, work: () => Promise<T>): Promise<T> {
  return t.db.transaction().execute(async (trx) => {
    await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
    return work();
  });
}

function expectBusy(res: Awaited<ReturnType<FastifyInstance['inject']>>) {
  const body = expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
  expect(res.headers['retry-after']).toBe('5');
  expect(body.retryAfterSeconds).toBe(5);
  expect(res.body).not.toMatch(/statement timeout|canceling|lock|57014|55P03|users/i);
}

describe('Postgres timeouts', () => {
  it('answers 503 with Retry-After when a write outlives the statement timeout waiting for a row lock', async () => {
    const impatient = await buildApp({ config: { ...t.config, database: { ...t.config.database, statementTimeoutMs: 300 } }, logger: false });
    await impatient.ready();
    try {
      const res = await whileRowLocked(user.userId, () =>
        impatient.inject({ method: 'PATCH', url: '/user/me', payload: { name: 'Blocked' }, headers: user.auth }),
      );
      expectBusy(res);
      // Nothing was half-done: the same request goes through once the lock is gone.
      const retried = await impatient.inject({ method: 'PATCH', url: '/user/me', payload: { name: 'Through' }, headers: user.auth });
      expect(retried.statusCode).toBe(200);
      expect(retried.json().name).toBe('Through');
    } finally {
      await impatient.close();
    }
  });

  it('answers 503 with Retry-After when Postgres refuses a lock it cannot get (lock_not_available)', async () => {
    // No route asks for NOWAIT or sets lock_timeout today; a bare app with the error handler shows the mapping
    // for the real Postgres error.
    const app = Fastify({ logger: false });
    await app.register(errorsPlugin);
    app.get('/lock', async () => {
      await sql`select id from users where id = ${user.userId} for update nowait`.execute(t.db);
      return { locked: true };
    });
    await app.ready();
    try {
      expectBusy(await whileRowLocked(user.userId, () => app.inject({ url: '/lock' })));
      expect((await app.inject({ url: '/lock' })).json()).toEqual({ locked: true });
    } finally {
      await app.close();
    }
  });
});
