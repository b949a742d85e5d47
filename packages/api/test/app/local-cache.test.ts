// In-process caches (sessions, chatroom list pages): authenticated reads skip Postgres and Redis, yet a change
// made through one API process (or the worker) applies on every other at once (pub/sub), and nothing is trusted
// while that channel is down.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ActiveSession } from '@gemini-chat/shared';
import { buildApp } from '../../src/app.js';
import { createLocalCache, redisChannelFeed, type ChangeListener } from '../../src/lib/local-cache.js';
import { buildTestApp, expectProblem, post, signIn, timeUntil, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
/** A second API process on the same database and Redis. */
let other: FastifyInstance;
beforeAll(async () => {
  t = await buildTestApp({ LOCAL_CACHE_SECONDS: '2' });
  other = await buildApp({ config: t.config, logger: false });
  await other.ready();
});
afterAll(async () => {
  await other.close();
  await t.close();
});

const me = (app: FastifyInstance, authorization: string) => app.inject({ url: '/user/me', headers: { authorization } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


describe('session cache across API processes', () => {
  it('a logout on one process is refused on the other at once, though the other had the session cached', async () => {
    const user = await signIn(t.app);
    expect((await me(other, user.auth.authorization)).statusCode).toBe(200); // now cached there
    expect((await post(t.app, '/auth/logout', { refreshToken: user.refreshToken })).statusCode).toBe(204);
    // The process that revoked forgets synchronously; the other within a pub/sub hop.
    expectProblem(await me(t.app, user.auth.authorization), 401, 'SESSION_REVOKED');
    expect(await timeUntil(401, () => me(other, user.auth.authorization))).toBeLessThan(200);
    expectProblem(await me(other, user.auth.authorization), 401, 'SESSION_REVOKED');
  });

  it('a password change on one process ends every other session of the user on the other', async () => {
    const user = await signIn(t.app);
    const second = await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken });
    const secondAuth = `Bearer ${second.json().accessToken as string}`;
    expect((await me(other, secondAuth)).statusCode).toBe(200);
    const changed = await t.app.inject({ method: 'POST', url: '/auth/change-password', headers: user.auth, payload: { newPassword: 'a long enough passphrase' } });
    expect(changed.statusCode).toBe(200);
    expect(await timeUntil(401, () => me(other, secondAuth))).toBeLessThan(200);
    expect((await me(other, `Bearer ${changed.json().accessToken as string}`)).statusCode).toBe(200);
  });

  it('a tier change is applied on the next request on every process', async () => {
    const user = await signIn(t.app);
    expect((await me(other, user.auth.authorization)).json().tier).toBe('basic');
    // What billing does after committing a tier change (its Stripe flows are tested in billing/).
    await t.db.updateTable('users').set({ tier: 'pro' }).where('id', '=', user.userId).execute();
    const publisher = new Redis(t.config.redis.url);
    await publisher.publish(`${t.config.redis.keyPrefix}session-changes`, user.userId);
    publisher.disconnect();
    expect(await timeUntil(200, async () => ({ statusCode: (await me(other, user.auth.authorization)).json().tier === 'pro' ? 200 : 0 }))).toBeLessThan(200);
  });

  it('a change made behind its back (no announcement) is trusted at most LOCAL_CACHE_SECONDS', async () => {
    const user = await signIn(t.app);
    expect((await me(other, user.auth.authorization)).statusCode).toBe(200);
    await t.db.updateTable('session').set({ revoked_at: new Date(), revoke_reason: 'test' }).where('user_id', '=', user.userId).execute();
    // Served from memory: proof that the request did not ask Postgres.
    expect((await me(other, user.auth.authorization)).statusCode).toBe(200);
    await sleep(2100);
    expectProblem(await me(other, user.auth.authorization), 401, 'SESSION_REVOKED');
  });
});

describe('chatroom list pages across API processes', () => {
  const list = (app: FastifyInstance, auth: { authorization: string }) => app.inject({ url: '/chatroom', headers: auth });

  it('a chatroom created through one process is listed by the other at once, though it had the page in memory', async () => {
    const user = await signIn(t.app);
    expect((await list(other, user.auth)).json().items).toEqual([]); // now in the other's memory
    const created = await t.app.inject({ method: 'POST', url: '/chatroom', headers: user.auth, payload: { title: 'Fresh' } });
    expect(created.statusCode).toBe(201);
    // The writing process forgets synchronously: read-your-writes on the same instance.
    expect((await list(t.app, user.auth)).json().items.map((c: { title: string }) => c.title)).toEqual(['Fresh']);
    expect(await timeUntil(200, async () => ({ statusCode: (await list(other, user.auth)).json().items.length === 1 ? 200 : 0 }))).toBeLessThan(200);
  });

  it('a list changed behind its back (Redis bumped, nothing announced) is kept at most LOCAL_CACHE_SECONDS', async () => {
    const user = await signIn(t.app);
    expect((await list(other, user.auth)).json().items).toEqual([]);
    const redis = new Redis(t.config.redis.url);
    await redis.incr(`${t.config.redis.keyPrefix}chatroom-list:{${user.userId}}:version`); // Redis forgets, silently
    redis.disconnect();
    await t.db.insertInto('chatroom').values({ user_id: user.userId, title: 'Behind its back' }).execute();
    expect((await list(other, user.auth)).json().items).toEqual([]); // served from memory
    await sleep(2100);
    expect((await list(other, user.auth)).json().items).toHaveLength(1);
  });
});

describe('local cache rules', () => {
  const channel = `test-session-changes-${randomUUID()}`;
  const session = (): ActiveSession => ({ sessionId: randomUUID(), userId: randomUUID(), tier: 'basic', expiresAt: new Date(Date.now() + 3_600_000) });
  const log = { info: () => {}, warn: () => {}, error: () => {} };
  const opened: Redis[] = [];
  afterEach(() => {
    for (const client of opened.splice(0)) client.disconnect();
  });

  /** A session cache over `load`, subscribed and trusted; `loads()` counts the calls that reached the loader. */
  async function cacheWith(load: (sessionId: string) => Promise<ActiveSession | undefined>) {
    const subscriber = new Redis(t.config.redis.url);
    const publisher = new Redis(t.config.redis.url);
    opened.push(subscriber, publisher);
    const local = createLocalCache<ActiveSession>({ feeds: [redisChannelFeed({ subscriber, publisher, channel, log })], ttlSeconds: 60, maxEntries: 100, log, expiresAt: (v) => v.expiresAt.getTime() });
    let loads = 0;
    const find = (x: ActiveSession) => local.get(x.userId, x.sessionId, () => (loads++, load(x.sessionId)));
    await timeUntil(1, async () => ({ statusCode: subscriber.status === 'ready' ? 1 : 0 }));
    await sleep(50); // the cache subscribes on 'ready'; one round trip later it trusts its entries
    return { find, loads: () => loads, local, subscriber };
  }

  it('trusts nothing while its subscription is down, and caches again once subscribed again', async () => {
    const s = session();
    const c = await cacheWith(async () => s);
    await c.find(s);
    await c.find(s);
    expect(c.loads()).toBe(1);
    const closed = new Promise((resolve) => c.subscriber.once('close', resolve));
    c.subscriber.disconnect(true); // dropped: it reconnects by itself
    await closed;
    await c.find(s);
    await c.find(s);
    expect(c.loads()).toBe(3); // every find went to the loader
    await timeUntil(1, async () => ({ statusCode: c.subscriber.status === 'ready' ? 1 : 0 }), 5000);
    await sleep(50);
    const before = c.loads();
    await c.find(s);
    await c.find(s);
    expect(c.loads() - before).toBeLessThanOrEqual(1);
  });

  it('does not store a load that raced with an invalidation (read before the change, finished after it)', async () => {
    const s = session();
    let release: (() => void) | undefined;
    const c = await cacheWith(async () => {
      if (!release) await new Promise<void>((resolve) => (release = resolve)); // only the first load waits
      return s;
    });
    const first = c.find(s);
    await sleep(10);
    await c.local.announce(s.userId, s.sessionId); // committed and announced while the first load was in flight
    release!();
    await first;
    await c.find(s);
    expect(c.loads()).toBe(2); // the stale first answer was not kept
  });

  it('keeps at most maxEntries, dropping the groups stored longest ago', async () => {
    const sessions = Array.from({ length: 101 }, session);
    const c = await cacheWith(async (sessionId) => sessions.find((x) => x.sessionId === sessionId));
    for (const x of sessions) await c.find(x); // 101 entries, the bound is 100
    expect(c.loads()).toBe(101);
    await c.find(sessions[100]!);
    expect(c.loads()).toBe(101); // the newest is kept
    await c.find(sessions[0]!);
    expect(c.loads()).toBe(102); // the oldest was dropped
  });

  it('never serves an entry past its session expiry', async () => {
    const s = { ...session(), expiresAt: new Date(Date.now() + 150) };
    const c = await cacheWith(async () => s);
    await c.find(s);
    await c.find(s);
    expect(c.loads()).toBe(1);
    await sleep(200);
    await c.find(s);
    expect(c.loads()).toBe(2);
  });
});

describe('a cache on several change feeds', () => {
  const log = { info: () => {}, warn: () => {}, error: () => {} };
  /** A feed the test drives by hand. */
  const manualFeed = () => {
    let listener: ChangeListener | undefined;
    return { listen: (l: ChangeListener) => void (listener = l), change: (c: string) => listener!.change(c), live: (v: boolean) => listener!.live(v) };
  };
  function cacheOn(feeds: Array<ReturnType<typeof manualFeed>>) {
    const local = createLocalCache<string>({ feeds, ttlSeconds: 60, maxEntries: 100, log });
    let loads = 0;
    let next: Promise<void> = Promise.resolve();
    return {
      read: () => local.get('user', 'page', async () => (await next, `v${++loads}`)),
      loads: () => loads,
      holdNextLoad() {
        let release!: () => void;
        next = new Promise<void>((resolve) => (release = resolve));
        return () => (release(), (next = Promise.resolve()));
      },
    };
  }

  it('trusts nothing until every feed listens, and forgets everything when one stops', async () => {
    const [postgres, redis] = [manualFeed(), manualFeed()];
    const c = cacheOn([postgres, redis]);
    postgres.live(true);
    await c.read();
    await c.read();
    expect(c.loads()).toBe(2); // one feed is not listening yet: read through
    redis.live(true);
    await c.read();
    await c.read();
    expect(c.loads()).toBe(3);
    redis.live(false);
    await c.read();
    expect(c.loads()).toBe(4);
    redis.live(true); // back: starts from nothing
    await c.read();
    await c.read();
    expect(c.loads()).toBe(5);
  });

  it('drops a group on a change from any feed, and does not keep a load that raced one', async () => {
    const [postgres, redis] = [manualFeed(), manualFeed()];
    const c = cacheOn([postgres, redis]);
    postgres.live(true);
    redis.live(true);
    await c.read();
    redis.change('someone-else');
    expect(await c.read()).toBe('v1');
    postgres.change('user');
    expect(await c.read()).toBe('v2');
    redis.change('user');
    const release = c.holdNextLoad();
    const raced = c.read(); // read from the source before the change...
    postgres.change('user'); // ...which is announced before the load ends
    release();
    expect(await raced).toBe('v3');
    expect(await c.read()).toBe('v4'); // v3 was not kept
    expect(await c.read()).toBe('v4');
  });
});
