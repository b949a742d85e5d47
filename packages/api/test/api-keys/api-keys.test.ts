// API keys: shown once, stored hashed, accepted only where a route opts in, revoked at once on every API
// process, limited to 10 per user (also under parallel creates), rate-limited per key, sharing the user's quota.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { buildTestApp, expectProblem, fileUpload, pngFixture, post, signIn, timeUntil, type SignedIn, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
/** A second API process on the same database and Redis. */
let other: FastifyInstance;
beforeAll(async () => {
  t = await buildTestApp({ LOCAL_CACHE_SECONDS: '30', QUOTA_BASIC_DAILY: '3' });
  other = await buildApp({ config: t.config, logger: false });
  await other.ready();
});
afterAll(async () => {
  await other.close();
  await t.close();
});

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createKey(user: SignedIn, body: Record<string, unknown> = { name: 'server script' }, app = t.app) {
  const res = await post(app, '/user/api-keys', body, user.auth);
  if (res.statusCode !== 201) throw new Error(`create key: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; key: string; prefix: string; name: string; expiresAt: string | null };
}
const listKeys = async (user: SignedIn) => {
  const res = await t.app.inject({ url: '/user/api-keys', headers: user.auth });
  expect(res.statusCode).toBe(200);
  return res.json().items as Array<Record<string, unknown>>;
};
const chatrooms = (app: FastifyInstance, key: string) => app.inject({ url: '/chatroom', headers: bearer(key) });


describe('creating and listing keys', () => {
  it('shows the key once, stores only its hash, and never lists it', async () => {
    const user = await signIn(t.app);
    const created = await createKey(user, { name: '  nightly export  ', expiresInDays: 30 });
    expect(created.key).toMatch(/^gck_[0-9A-Za-z]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.prefix).toMatch(/^gck_[0-9A-Za-z]{6}$/);
    expect(created.name).toBe('nightly export');
    expect(Date.parse(created.expiresAt!) - Date.now()).toBeGreaterThan(29.9 * 86_400_000);

    const listed = await listKeys(user);
    expect(listed).toEqual([
      { id: created.id, name: 'nightly export', prefix: created.prefix, createdAt: expect.any(String), lastUsedAt: null, expiresAt: created.expiresAt },
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(created.prefix.length));

    const row = await t.db.selectFrom('api_key').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(created.key.slice(created.prefix.length));
  });

  it('makes a different key every time', async () => {
    const user = await signIn(t.app);
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) keys.add((await createKey(user)).key);
    expect(keys.size).toBe(5);
  });

  it('refuses a blank name, an unknown field and a zero expiry', async () => {
    const user = await signIn(t.app);
    for (const body of [{ name: '   ' }, { name: '' }, { name: 'x', scope: 'admin' }, { name: 'x', expiresInDays: 0 }, {}]) {
      expectProblem(await post(t.app, '/user/api-keys', body, user.auth), 400, 'VALIDATION_FAILED');
    }
  });
});

describe('what a key may do', () => {
  it('works on chatroom, message, file, search and model routes: a server script chats with it', async () => {
    const user = await signIn(t.app);
    const { key, id } = await createKey(user);

    const room = await post(t.app, '/chatroom', { title: 'from a script' }, bearer(key));
    expect(room.statusCode).toBe(201);
    const roomId = room.json().id as string;
    const sent = await post(t.app, `/chatroom/${roomId}/message`, { content: 'hello from cron' }, bearer(key));
    expect(sent.statusCode).toBe(202);
    expect((await t.app.inject({ url: `/chatroom/${roomId}/messages`, headers: bearer(key) })).json().items).toHaveLength(2);
    const models = await t.app.inject({ url: '/models', headers: bearer(key) });
    expect(models.statusCode).toBe(200);
    expect(models.json().items.length).toBeGreaterThan(0);
    const upload = fileUpload(pngFixture(), 'chart.png', 'image/png');
    const file = await t.app.inject({ method: 'POST', url: '/files', payload: upload.payload, headers: { ...upload.headers, ...bearer(key) } });
    expect(file.statusCode).toBe(201);
    expect((await t.app.inject({ url: '/search?q=script', headers: bearer(key) })).statusCode).toBe(200);
    expect((await t.app.inject({ url: `/chatroom/${roomId}/export`, headers: bearer(key) })).statusCode).toBe(200);

    // It acts as its user: what the key made, the user's access token sees.
    const listed = await t.app.inject({ url: '/chatroom', headers: user.auth });
    expect(listed.json().items.map((r: { id: string }) => r.id)).toContain(roomId);
    expect((await t.app.inject({ url: `/files/${file.json().id as string}`, headers: user.auth })).statusCode).toBe(200);

    const used = (await listKeys(user)).find((k) => k.id === id)!;
    expect(Date.now() - Date.parse(used.lastUsedAt as string)).toBeLessThan(60_000);
  });

  it('records the last use at most once a minute, whichever process serves the key', async () => {
    const user = await signIn(t.app);
    const { key, id } = await createKey(user);
    const halfMinuteAgo = new Date(Date.now() - 30_000);
    await t.db.updateTable('api_key').set({ last_used_at: halfMinuteAgo }).where('id', '=', id).execute();
    expect((await chatrooms(other, key)).statusCode).toBe(200);
    await sleep(100);
    const kept = await t.db.selectFrom('api_key').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow();
    expect(kept.last_used_at?.getTime()).toBe(halfMinuteAgo.getTime());

    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await t.db.updateTable('api_key').set({ last_used_at: twoMinutesAgo }).where('id', '=', id).execute();
    expect((await chatrooms(t.app, key)).statusCode).toBe(200);
    await expect
      .poll(async () => (await t.db.selectFrom('api_key').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow()).last_used_at!.getTime())
      .toBeGreaterThan(Date.now() - 5_000);
  });

  it('is refused with 403 API_KEY_NOT_ALLOWED on auth, account, billing and key routes', async () => {
    const user = await signIn(t.app);
    const { key, id } = await createKey(user);
    const refused: Array<[string, string, unknown?]> = [
      ['GET', '/user/me'],
      ['PATCH', '/user/me', { name: 'Mallory' }],
      ['POST', '/auth/logout', { refreshToken: user.refreshToken }],
      ['POST', '/auth/refresh', { refreshToken: user.refreshToken }],
      ['POST', '/auth/change-password', { newPassword: 'a long enough passphrase' }],
      ['POST', '/auth/send-otp', { mobileNumber: user.mobileNumber }],
      ['POST', '/subscribe/pro', {}],
      ['GET', '/subscription/status'],
      ['GET', '/user/api-keys'],
      ['POST', '/user/api-keys', { name: 'another' }],
      ['DELETE', `/user/api-keys/${id}`],
    ];
    for (const [method, url, payload] of refused) {
      const res = await t.app.inject({ method: method as 'GET', url, headers: bearer(key), ...(payload ? { payload: payload as object } : {}) });
      expectProblem(res, 403, 'API_KEY_NOT_ALLOWED');
    }
    // Nothing was changed through it: the key, the session and the name are as they were.
    expect(await listKeys(user)).toHaveLength(1);
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().name).toBeNull();
    expect((await post(t.app, '/auth/refresh', { refreshToken: user.refreshToken })).statusCode).toBe(200);
  });

  it('refuses a malformed key, an unknown one and a key-looking JWT slot with 401', async () => {
    for (const token of ['gck_', 'gck_short', `gck_${'A'.repeat(42)}!`, `gck_${'A'.repeat(44)}`, `gck_${'A'.repeat(43)}`]) {
      expectProblem(await chatrooms(t.app, token), 401, 'INVALID_API_KEY');
    }
  });

  it('shares the daily quota with its user\'s own access tokens', async () => {
    const user = await signIn(t.app); // QUOTA_BASIC_DAILY is 3 in this file
    const { key } = await createKey(user);
    const send = async (headers: Record<string, string>) => {
      const room = (await post(t.app, '/chatroom', {}, headers)).json().id as string;
      return post(t.app, `/chatroom/${room}/message`, { content: 'count me' }, headers);
    };
    expect((await send(user.auth)).statusCode).toBe(202);
    expect((await send(bearer(key))).statusCode).toBe(202);
    expect((await send(user.auth)).statusCode).toBe(202);
    expectProblem(await send(bearer(key)), 429, 'QUOTA_EXCEEDED');
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().usage.used).toBe(3);
  });
});

describe('revoking keys', () => {
  it('refuses a revoked key at once on this process and on another that had it cached', async () => {
    const user = await signIn(t.app);
    const { key, id } = await createKey(user);
    const kept = await createKey(user, { name: 'kept' });
    expect((await chatrooms(t.app, key)).statusCode).toBe(200);
    expect((await chatrooms(other, key)).statusCode).toBe(200); // now cached on both

    const revoked = await t.app.inject({ method: 'DELETE', url: `/user/api-keys/${id}`, headers: user.auth });
    expect(revoked.statusCode).toBe(204);
    expectProblem(await chatrooms(t.app, key), 401, 'INVALID_API_KEY');
    expect(await timeUntil(401, () => chatrooms(other, key))).toBeLessThan(200);
    expectProblem(await chatrooms(other, key), 401, 'INVALID_API_KEY');
    // Only that key: the other one and the user's own token still work.
    expect((await chatrooms(other, kept.key)).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/chatroom', headers: user.auth })).statusCode).toBe(200);
    expect((await listKeys(user)).map((k) => k.id)).toEqual([kept.id]);
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/user/api-keys/${id}`, headers: user.auth }), 404, 'API_KEY_NOT_FOUND');
  });

  it('does not let another user revoke (or see) someone\'s key', async () => {
    const owner = await signIn(t.app);
    const mallory = await signIn(t.app);
    const { key, id } = await createKey(owner);
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/user/api-keys/${id}`, headers: mallory.auth }), 404, 'API_KEY_NOT_FOUND');
    expect(await listKeys(mallory)).toEqual([]);
    expect((await chatrooms(t.app, key)).statusCode).toBe(200);
    expectProblem(await t.app.inject({ method: 'DELETE', url: `/user/api-keys/${randomUUID()}`, headers: owner.auth }), 404, 'API_KEY_NOT_FOUND');
    expectProblem(await t.app.inject({ method: 'DELETE', url: '/user/api-keys/not-a-uuid', headers: owner.auth }), 400, 'VALIDATION_FAILED');
  });

  it('refuses an expired key, also one this process still remembers', async () => {
    const user = await signIn(t.app);
    const past = await createKey(user, { name: 'old', expiresInDays: 1 });
    await t.db.updateTable('api_key').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', past.id).execute();
    expectProblem(await chatrooms(t.app, past.key), 401, 'INVALID_API_KEY');

    const soon = await createKey(user, { name: 'soon', expiresInDays: 1 });
    await t.db.updateTable('api_key').set({ expires_at: new Date(Date.now() + 1500) }).where('id', '=', soon.id).execute();
    expect((await chatrooms(t.app, soon.key)).statusCode).toBe(200); // cached, with its expiry
    await sleep(1600);
    expectProblem(await chatrooms(t.app, soon.key), 401, 'INVALID_API_KEY');
    // Expired keys stay listed (so they can be deleted) but no longer count towards the limit.
    expect((await listKeys(user)).map((k) => k.name)).toEqual(['old', 'soon']);
  });

  it('dies with its user: the rows cascade, and the announcement that drops a deleted user\'s sessions drops the keys', async () => {
    const user = await signIn(t.app);
    const { key, id } = await createKey(user);
    expect((await chatrooms(t.app, key)).statusCode).toBe(200);
    expect((await chatrooms(other, key)).statusCode).toBe(200);
    await t.db.deleteFrom('users').where('id', '=', user.userId).execute();
    expect(await t.db.selectFrom('api_key').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    // What the session cache's userChanged() publishes after an account is deleted.
    const redis = new Redis(t.config.redis.url);
    try {
      await redis.publish(`${t.config.redis.keyPrefix}session-changes`, user.userId);
    } finally {
      redis.disconnect();
    }
    expect(await timeUntil(401, () => chatrooms(t.app, key))).toBeLessThan(200);
    expect(await timeUntil(401, () => chatrooms(other, key))).toBeLessThan(200);
  });
});

describe('at most 10 keys per user', () => {
  it('refuses the 11th key with 409, and counts expired keys out', async () => {
    const user = await signIn(t.app);
    const made = [];
    for (let i = 0; i < 10; i++) made.push(await createKey(user, { name: `key ${i}` }));
    expectProblem(await post(t.app, '/user/api-keys', { name: 'eleventh' }, user.auth), 409, 'API_KEY_LIMIT_REACHED');
    await t.db.updateTable('api_key').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', made[0]!.id).execute();
    expect((await post(t.app, '/user/api-keys', { name: 'replaces an expired one' }, user.auth)).statusCode).toBe(201);
    expectProblem(await post(t.app, '/user/api-keys', { name: 'twelfth' }, user.auth), 409, 'API_KEY_LIMIT_REACHED');
  });

  it('holds under 12 parallel creates on two API processes: exactly 10 succeed', async () => {
    const user = await signIn(t.app);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(i % 2 ? other : t.app, '/user/api-keys', { name: `parallel ${i}` }, user.auth)),
    );
    const codes = results.map((r) => r.statusCode).sort();
    expect(codes).toEqual([...Array(10).fill(201), 409, 409]);
    const { n } = await t.db
      .selectFrom('api_key')
      .select(sql<string>`count(*)`.as('n'))
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(Number(n)).toBe(10);
  });
});

describe('the per-key rate limit', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await buildTestApp({ API_KEY_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => limited.close());

  it('answers 429 with Retry-After past the limit, per key, leaving the user\'s token and other keys alone', async () => {
    const user = await signIn(limited.app);
    const one = await createKey(user, { name: 'one' }, limited.app);
    const two = await createKey(user, { name: 'two' }, limited.app);
    for (let i = 0; i < 3; i++) expect((await chatrooms(limited.app, one.key)).statusCode).toBe(200);
    const refused = await chatrooms(limited.app, one.key);
    expectProblem(refused, 429, 'RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await chatrooms(limited.app, two.key)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await limited.app.inject({ url: '/chatroom', headers: user.auth })).statusCode).toBe(200);
  });
});
