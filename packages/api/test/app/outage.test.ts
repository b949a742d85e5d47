import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '@gemini-chat/shared';
import { buildApp } from '../../src/app.js';
import { buildTestApp, expectProblem, post, randomMobileNumber, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// Nothing listens on port 1: connections are refused at once, like a dependency that is down.
const DEAD_POSTGRES = 'postgres://postgres@127.0.0.1:1/nowhere';
const DEAD_REDIS = 'redis://127.0.0.1:1';

let healthy: TestApp;
let user: SignedIn;
beforeAll(async () => {
  healthy = await buildTestApp();
  user = await signIn(healthy.app);
});
afterAll(() => healthy.close());

async function appWith(change: (config: Config) => Config): Promise<FastifyInstance> {
  const app = await buildApp({ config: change(healthy.config), logger: false });
  await app.ready();
  return app;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

function expectUnavailable(res: Awaited<ReturnType<FastifyInstance['inject']>>) {
  const body = expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
  expect(res.headers['retry-after']).toBe('5');
  expect(body.detail).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|redis|postgres/i); // no internals leak
}

describe('when Redis is unreachable', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith((c) => ({ ...c, redis: { ...c.redis, url: DEAD_REDIS } }));
  });
  afterAll(() => app.close());

  it('/ready says 503 quickly and /health stays 200', async () => {
    const { value: res, ms } = await timed(() => app.inject({ url: '/ready' }));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { postgres: 'ok', redis: 'unavailable' } });
    expect(ms).toBeLessThan(3000);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  });

  it('routes that need Redis answer 503 with Retry-After, not a hang or a 500', async () => {
    for (const request of [
      () => app.inject({ url: '/chatroom', headers: user.auth }),
      () => app.inject({ url: '/user/me', headers: user.auth }),
      () => post(app, '/auth/send-otp', { mobileNumber: user.mobileNumber }),
    ]) {
      const { value: res, ms } = await timed(request);
      expectUnavailable(res);
      expect(ms).toBeLessThan(3000);
    }
  });

  it('a write that cannot invalidate the cache is refused with 503 and stores nothing (a retry cannot duplicate it)', async () => {
    expectUnavailable(await app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'lost?' }, headers: user.auth }));
    const rows = await healthy.db.selectFrom('chatroom').select('id').where('user_id', '=', user.userId).execute();
    expect(rows).toEqual([]);
  });

  it('reads that only need Postgres still work', async () => {
    const res = await app.inject({ url: '/chatroom/00000000-0000-4000-8000-000000000000', headers: user.auth });
    expectProblem(res, 404, 'CHATROOM_NOT_FOUND');
  });
});

describe('when Postgres is unreachable', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appWith((c) => ({ ...c, database: { ...c.database, url: DEAD_POSTGRES } }));
  });
  afterAll(() => app.close());

  it('/ready says 503 quickly', async () => {
    const { value: res, ms } = await timed(() => app.inject({ url: '/ready' }));
    expect(res.statusCode).toBe(503);
    expect(res.json().checks).toEqual({ postgres: 'unavailable', redis: 'ok' });
    expect(ms).toBeLessThan(3000);
  });

  it('authenticated and public routes answer 503, not a hang or a 500', async () => {
    for (const request of [
      () => app.inject({ url: '/user/me', headers: user.auth }),
      () => app.inject({ url: '/chatroom', headers: user.auth }),
      () => post(app, '/auth/signup', { mobileNumber: randomMobileNumber() }),
    ]) {
      const { value: res, ms } = await timed(request);
      expectUnavailable(res);
      expect(ms).toBeLessThan(4000);
    }
  });
});
