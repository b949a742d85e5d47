import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
let alice: SignedIn;
let bob: SignedIn;
beforeAll(async () => {
  t = await buildTestApp();
  [alice, bob] = await Promise.all([signIn(t.app), signIn(t.app)]);
});
afterAll(() => t.close());

const create = async (user: SignedIn, body: object = {}) => {
  const res = await t.app.inject({ method: 'POST', url: '/chatroom', payload: body, headers: user.auth });
  expect(res.statusCode).toBe(201);
  return res.json();
};
const list = (user: SignedIn, query = '', headers: Record<string, string> = {}) =>
  t.app.inject({ url: `/chatroom${query}`, headers: { ...user.auth, ...headers } });

describe('chatroom CRUD', () => {
  it('creates with defaults, reads it back with an empty message page', async () => {
    const room = await create(alice);
    expect(room).toMatchObject({ title: 'New chat', systemPrompt: null });
    const res = await t.app.inject({ url: `/chatroom/${room.id}`, headers: alice.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: room.id, messages: [], hasMoreMessages: false, messagesNextCursor: null });
  });

  it('updates title and system prompt, and null clears the system prompt', async () => {
    const room = await create(alice, { title: 'Plans', systemPrompt: 'Be brief.' });
    const patch = (payload: object) => t.app.inject({ method: 'PATCH', url: `/chatroom/${room.id}`, payload, headers: alice.auth });
    expect((await patch({ title: 'Holiday plans' })).json()).toMatchObject({ title: 'Holiday plans', systemPrompt: 'Be brief.' });
    expect((await patch({ systemPrompt: null })).json()).toMatchObject({ title: 'Holiday plans', systemPrompt: null });
    expectProblem(await patch({}), 400, 'VALIDATION_FAILED');
  });

  it('deletes (204) and then it is gone (404)', async () => {
    const room = await create(alice);
    expect((await t.app.inject({ method: 'DELETE', url: `/chatroom/${room.id}`, headers: alice.auth })).statusCode).toBe(204);
    expectProblem(await t.app.inject({ url: `/chatroom/${room.id}`, headers: alice.auth }), 404, 'CHATROOM_NOT_FOUND');
  });

  it('answers 404 to another user on every route, exactly as for a missing chatroom, and changes nothing', async () => {
    const room = await create(alice, { title: 'Private' });
    const routes = [
      { method: 'GET' as const, url: `/chatroom/${room.id}` },
      { method: 'PATCH' as const, url: `/chatroom/${room.id}`, payload: { title: 'Hijacked' } },
      { method: 'DELETE' as const, url: `/chatroom/${room.id}` },
    ];
    for (const route of routes) {
      const asBob = await t.app.inject({ ...route, headers: bob.auth });
      const missing = await t.app.inject({ ...route, url: route.url.replace(room.id, randomUUID()), headers: bob.auth });
      expectProblem(asBob, 404, 'CHATROOM_NOT_FOUND');
      expect({ ...asBob.json(), requestId: '' }).toEqual({ ...missing.json(), requestId: '' });
    }
    expect((await list(bob)).json().items.map((r: { id: string }) => r.id)).not.toContain(room.id);
    expect((await t.app.inject({ url: `/chatroom/${room.id}`, headers: alice.auth })).json().title).toBe('Private');
  });

  it('refuses text the database cannot store (a NUL character) with 400, not 500', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'bad\u0000title' }, headers: alice.auth });
    expectProblem(res, 400, 'VALIDATION_FAILED');
  });

  it('rejects a non-UUID id with 400', async () => {
    expectProblem(await t.app.inject({ url: '/chatroom/123', headers: alice.auth }), 400, 'VALIDATION_FAILED');
  });
});

describe('chatroom list', () => {
  it('pages newest activity first with an opaque cursor', async () => {
    const user = await signIn(t.app);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await create(user, { title: `Room ${i}` }));
    const first = (await list(user, '?limit=2')).json();
    expect(first.items.map((r: { title: string }) => r.title)).toEqual(['Room 4', 'Room 3']);
    const second = (await list(user, `?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((r: { title: string }) => r.title)).toEqual(['Room 2', 'Room 1']);
    const third = (await list(user, `?limit=2&cursor=${second.nextCursor}`)).json();
    expect(third).toEqual({ items: [expect.objectContaining({ title: 'Room 0' })], nextCursor: null });
    expectProblem(await list(user, '?cursor=garbage'), 400, 'INVALID_CURSOR');
    // Well-formed but out of the database's range: still the client's mistake.
    const farFuture = Buffer.from(JSON.stringify({ t: '+275760-09-13T00:00:00.000Z', id: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    expectProblem(await list(user, `?cursor=${farFuture}`), 400, 'INVALID_CURSOR');
    expectProblem(await list(user, '?limit=1000'), 400, 'VALIDATION_FAILED');
  });

  it('is served from the cache until a write invalidates it', async () => {
    const user = await signIn(t.app);
    await create(user, { title: 'Cached' });
    const first = await list(user);
    // Change the database behind the API's back: a cache hit must not see it...
    await t.db.updateTable('chatroom').set({ title: 'Changed underneath' }).where('user_id', '=', user.userId).execute();
    const second = await list(user);
    expect(second.body).toBe(first.body);
    expect(second.json().items[0].title).toBe('Cached');
    // ...until a write through the API invalidates it.
    await create(user, { title: 'Second' });
    const third = (await list(user)).json();
    expect(third.items.map((r: { title: string }) => r.title)).toEqual(['Second', 'Changed underneath']);
  });

  it('sets the cache TTL to 5 minutes', async () => {
    const user = await signIn(t.app);
    await create(user);
    await list(user);
    const { Redis } = await import('ioredis');
    const redis = new Redis(t.config.redis.url);
    const keys = await redis.keys(`${t.config.redis.keyPrefix}chatroom-list:{${user.userId}}:*:*`);
    const pageKeys = keys.filter((k) => !k.endsWith(':version'));
    expect(pageKeys.length).toBeGreaterThan(0);
    const ttl = await redis.ttl(pageKeys[0]!);
    await redis.quit();
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it('every list-changing write invalidates: create, rename, delete', async () => {
    const user = await signIn(t.app);
    const room = await create(user, { title: 'A' });
    expect((await list(user)).json().items).toHaveLength(1);
    await t.app.inject({ method: 'PATCH', url: `/chatroom/${room.id}`, payload: { title: 'B' }, headers: user.auth });
    expect((await list(user)).json().items[0].title).toBe('B');
    await t.app.inject({ method: 'DELETE', url: `/chatroom/${room.id}`, headers: user.auth });
    expect((await list(user)).json().items).toHaveLength(0);
  });

  it('answers 304 to a matching If-None-Match and 200 with a new ETag after a change', async () => {
    const user = await signIn(t.app);
    await create(user);
    const first = await list(user);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const notModified = await list(user, '', { 'if-none-match': etag });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');
    expect((await list(user, '', { 'if-none-match': `W/${etag}` })).statusCode).toBe(304);

    await create(user);
    const changed = await list(user, '', { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json().items).toHaveLength(2);
  });

  it('keeps users apart in the cache', async () => {
    const a = await signIn(t.app);
    const b = await signIn(t.app);
    await create(a, { title: 'only a' });
    await list(a);
    expect((await list(b)).json().items).toEqual([]);
  });
});
