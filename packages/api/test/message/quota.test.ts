import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// No worker runs in this file: every send goes to a chatroom of its own, so none is refused as busy.
let t: TestApp;
let redis: Redis;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '5' });
  redis = new Redis(t.config.redis.url);
});
afterAll(async () => {
  redis.disconnect();
  await t.close();
});

const createRoom = async (user: SignedIn) =>
  (await t.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id as string;
const send = async (user: SignedIn, headers: Record<string, string> = {}, roomId?: string) =>
  t.app.inject({ method: 'POST', url: `/chatroom/${roomId ?? (await createRoom(user))}/message`, payload: { content: 'count me' }, headers: { ...user.auth, ...headers } });
const usage = async (user: SignedIn) => (await t.app.inject({ url: '/user/me', headers: user.auth })).json().usage as { used: number; limit: number; resetsAt: string };
/** The user's quota counters in Redis, whatever their day. */
const counterKeys = (user: SignedIn) => redis.keys(`${t.config.redis.keyPrefix}quota:{${user.userId}}:*`);

describe('the daily quota survives a lost Redis counter', () => {
  it('rebuilds the counter from Postgres: /user/me still says 3, the 4th and 5th sends are admitted, the 6th is 429', async () => {
    const user = await signIn(t.app);
    for (let i = 0; i < 3; i++) expect((await send(user)).statusCode).toBe(202);
    const keys = await counterKeys(user);
    expect(keys.length).toBeGreaterThan(0);
    await redis.del(...keys); // what a restart without persistence, a failover or an eviction does

    expect((await usage(user)).used).toBe(3);
    const fourth = await send(user);
    expect(fourth.statusCode).toBe(202);
    expect(fourth.json().quota.used).toBe(4);
    expect((await send(user)).statusCode).toBe(202);
    expectProblem(await send(user), 429, 'QUOTA_EXCEEDED');
    expect((await usage(user)).used).toBe(5);
  });

  it('counts what was charged and not refunded: a refunded reply of the day is not counted again', async () => {
    const user = await signIn(t.app);
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await send(user)).json());
    // One of them failed without text and its unit came back, as the worker records it.
    await t.db.updateTable('message').set({ status: 'failed', refunded_at: new Date() }).where('id', '=', sent[0].reply.id).execute();
    await redis.del(...(await counterKeys(user)));
    expect((await usage(user)).used).toBe(2);
  });

  it('keeps the counter under the day the usage reports, taken from one clock', async () => {
    const user = await signIn(t.app);
    expect((await send(user)).statusCode).toBe(202);
    const { resetsAt } = await usage(user);
    const day = new Date(Date.parse(resetsAt) - 86_400_000).toISOString().slice(0, 10);
    expect(await counterKeys(user)).toEqual([`${t.config.redis.keyPrefix}quota:{${user.userId}}:${day}`]);
    const stored = await t.db.selectFrom('message').select('quota_day').where('user_id', '=', user.userId).where('role', '=', 'assistant').executeTakeFirstOrThrow();
    expect(stored.quota_day).toBe(day);
  });
});

describe('the quota and Idempotency-Key', () => {
  it('a retry with the same key at the limit replays the original result instead of answering 429', async () => {
    const user = await signIn(t.app);
    for (let i = 0; i < 4; i++) expect((await send(user)).statusCode).toBe(202);
    const roomId = await createRoom(user);
    const key = randomUUID();
    // The client retries before the first attempt answered: one charge, one result, never a 429.
    const [a, b] = await Promise.all([send(user, { 'idempotency-key': key }, roomId), send(user, { 'idempotency-key': key }, roomId)]);
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(a.json()).toEqual(b.json());
    // And again once the user is at the limit.
    const later = await send(user, { 'idempotency-key': key }, roomId);
    expect(later.statusCode).toBe(202);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.json()).toEqual(a.json());
    expectProblem(await send(user, { 'idempotency-key': randomUUID() }), 429, 'QUOTA_EXCEEDED');
    expect((await usage(user)).used).toBe(5);
  });
});

describe('a send that fails after it was charged', () => {
  it('gives the unit back', async () => {
    const user = await signIn(t.app);
    expect((await send(user)).statusCode).toBe(202);
    // A fault of the database in the middle of the send, after the charge: storing the reply fails.
    await sql`create function refuse_reply() returns trigger language plpgsql as $$ begin raise exception 'injected fault'; end $$`.execute(t.db);
    await sql`create trigger refuse_reply before insert on message for each row when (new.role = 'assistant') execute function refuse_reply()`.execute(t.db);
    try {
      const failed = await send(user);
      expect(failed.statusCode).toBe(500);
    } finally {
      await sql`drop trigger refuse_reply on message`.execute(t.db);
      await sql`drop function refuse_reply()`.execute(t.db);
    }
    expect((await usage(user)).used).toBe(1);
    expect((await send(user)).json().quota.used).toBe(2);
  });
});
