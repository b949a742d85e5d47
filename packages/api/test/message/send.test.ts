import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// No worker runs in this file: replies stay queued, which is what these rules are about.
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '5', PREFER_WAIT_MAX_SECONDS: '2' });
});
afterAll(() => t.close());

const createRoom = async (user: SignedIn, title = 'Room') =>
  (await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title }, headers: user.auth })).json().id as string;
const send = (user: SignedIn, roomId: string, content: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content }, headers: { ...user.auth, ...headers } });
const countMessages = async (userId: string) =>
  Number((await t.db.selectFrom('message').select((eb) => eb.fn.countAll<string>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow()).n);

describe('POST /chatroom/:id/message', () => {
  it('stores the prompt and a queued reply and answers 202 with both, the quota, links and RateLimit headers', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const res = await send(user, roomId, 'Hello');
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.userMessage).toMatchObject({ role: 'user', status: 'completed', content: 'Hello', chatroomId: roomId });
    expect(body.reply).toMatchObject({ role: 'assistant', status: 'queued', content: '', replyToId: body.userMessage.id });
    expect(body.quota).toMatchObject({ used: 1, limit: 5 });
    expect(body.links.reply).toBe(`/chatroom/${roomId}/messages/${body.reply.id}`);
    expect(res.headers.location).toBe(body.links.reply);
    expect(res.headers).toMatchObject({ 'ratelimit-limit': '5', 'ratelimit-remaining': '4' });
    expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
  });

  it('admits exactly 5 of 50 parallel sends from a basic user, and stores only those', async () => {
    const user = await signIn(t.app);
    const rooms = await Promise.all(Array.from({ length: 50 }, (_, i) => createRoom(user, `R${i}`)));
    const results = await Promise.all(rooms.map((roomId) => send(user, roomId, 'race')));
    const accepted = results.filter((r) => r.statusCode === 202);
    const rejected = results.filter((r) => r.statusCode === 429);
    expect(accepted).toHaveLength(5);
    expect(rejected).toHaveLength(45);
    const problem = expectProblem(rejected[0]!, 429, 'QUOTA_EXCEEDED');
    expect(Number(rejected[0]!.headers['retry-after'])).toBe(problem.retryAfterSeconds);
    expect(rejected[0]!.headers['ratelimit-remaining']).toBe('0');
    expect(await countMessages(user.userId)).toBe(10); // 5 prompts + 5 replies
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().usage).toMatchObject({ used: 5, limit: 5 });
  });

  it('two parallel sends with one Idempotency-Key create one message and one charge, and both get the same result', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const key = randomUUID();
    const [a, b] = await Promise.all([send(user, roomId, 'once', { 'idempotency-key': key }), send(user, roomId, 'once', { 'idempotency-key': key })]);
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(a.json()).toEqual(b.json());
    expect(await countMessages(user.userId)).toBe(2);
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().usage.used).toBe(1);

    const later = await send(user, roomId, 'once', { 'idempotency-key': key });
    expect(later.statusCode).toBe(202);
    expect(later.headers['idempotent-replayed']).toBe('true');
    expect(later.json()).toEqual(a.json());
    expectProblem(await send(user, roomId, 'something else', { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('answers 409 CHATROOM_BUSY while a reply is pending, without charging', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    expect((await send(user, roomId, 'first')).statusCode).toBe(202);
    expectProblem(await send(user, roomId, 'second'), 409, 'CHATROOM_BUSY');
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().usage.used).toBe(1);
  });

  it('Prefer: wait=N holds the response N seconds (capped) and still answers 202 while the reply is pending', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const start = Date.now();
    const res = await send(user, roomId, 'wait for me', { prefer: 'wait=30' });
    const elapsed = Date.now() - start;
    expect(res.statusCode).toBe(202);
    expect(res.headers['preference-applied']).toBe('wait=2');
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(5000);
  });

  it('rejects empty, whitespace-only and oversized prompts, unknown fields, and another user\'s chatroom (404)', async () => {
    const user = await signIn(t.app);
    const other = await signIn(t.app);
    const roomId = await createRoom(user);
    expectProblem(await send(user, roomId, ''), 400, 'VALIDATION_FAILED');
    expectProblem(await send(user, roomId, '   \n '), 400, 'VALIDATION_FAILED');
    expectProblem(await send(user, roomId, 'x'.repeat(8001)), 400, 'VALIDATION_FAILED');
    expectProblem(
      await t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'hi', role: 'assistant' }, headers: user.auth }),
      400,
      'VALIDATION_FAILED',
    );
    expectProblem(await send(other, roomId, 'hi'), 404, 'CHATROOM_NOT_FOUND');
    expect((await t.app.inject({ url: '/user/me', headers: other.auth })).json().usage.used).toBe(0);
    expect(await countMessages(user.userId)).toBe(0);
  });

  it('moves the chatroom to the top of the (cached) list', async () => {
    const user = await signIn(t.app);
    const older = await createRoom(user, 'older');
    await createRoom(user, 'newer');
    const list = async () => (await t.app.inject({ url: '/chatroom', headers: user.auth })).json().items.map((r: { title: string }) => r.title);
    expect(await list()).toEqual(['newer', 'older']);
    await send(user, older, 'bump');
    expect(await list()).toEqual(['older', 'newer']);
  });
});

describe('reading messages', () => {
  it('pages history newest first; GET one; /latest is 202 with Retry-After while pending; other users get 404', async () => {
    const unlimited = await buildTestApp({ QUOTA_BASIC_DAILY: '0' });
    try {
      const user = await signIn(unlimited.app);
      const other = await signIn(unlimited.app);
      const roomId = (await unlimited.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id;
      const latestEmpty = await unlimited.app.inject({ url: `/chatroom/${roomId}/latest`, headers: user.auth });
      expectProblem(latestEmpty, 404, 'MESSAGE_NOT_FOUND');
      // Three exchanges; finish each reply by hand so the chatroom is free for the next prompt.
      const replies: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await unlimited.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: `q${i}` }, headers: user.auth });
        replies.push(res.json().reply.id);
        if (i < 2) await unlimited.db.updateTable('message').set({ status: 'completed', content: `a${i}` }).where('id', '=', res.json().reply.id).execute();
      }
      const page1 = (await unlimited.app.inject({ url: `/chatroom/${roomId}/messages?limit=4`, headers: user.auth })).json();
      expect(page1.items.map((m: { content: string }) => m.content)).toEqual(['', 'q2', 'a1', 'q1']);
      const page2 = (await unlimited.app.inject({ url: `/chatroom/${roomId}/messages?limit=4&cursor=${page1.nextCursor}`, headers: user.auth })).json();
      expect(page2).toEqual({ items: [expect.objectContaining({ content: 'a0' }), expect.objectContaining({ content: 'q0' })], nextCursor: null });

      const latest = await unlimited.app.inject({ url: `/chatroom/${roomId}/latest`, headers: user.auth });
      expect(latest.statusCode).toBe(202);
      expect(latest.headers['retry-after']).toBe('1');
      expect(latest.json()).toMatchObject({ id: replies[2], status: 'queued' });
      await unlimited.db.updateTable('message').set({ status: 'completed', content: 'a2' }).where('id', '=', replies[2]!).execute();
      const done = await unlimited.app.inject({ url: `/chatroom/${roomId}/latest`, headers: user.auth });
      expect(done.statusCode).toBe(200);
      expect(done.json()).toMatchObject({ id: replies[2], status: 'completed', content: 'a2' });

      expect((await unlimited.app.inject({ url: `/chatroom/${roomId}/messages/${replies[0]}`, headers: user.auth })).json().content).toBe('a0');
      for (const url of [`/chatroom/${roomId}/messages`, `/chatroom/${roomId}/messages/${replies[0]}`, `/chatroom/${roomId}/latest`]) {
        expectProblem(await unlimited.app.inject({ url, headers: other.auth }), 404, 'CHATROOM_NOT_FOUND');
      }
      expectProblem(await unlimited.app.inject({ url: `/chatroom/${roomId}/messages/${randomUUID()}`, headers: user.auth }), 404, 'MESSAGE_NOT_FOUND');
      const hugeSeq = Buffer.from(JSON.stringify({ s: '99999999999999999999' })).toString('base64url');
      expectProblem(await unlimited.app.inject({ url: `/chatroom/${roomId}/messages?cursor=${hugeSeq}`, headers: user.auth }), 400, 'INVALID_CURSOR');
      const detail = (await unlimited.app.inject({ url: `/chatroom/${roomId}`, headers: user.auth })).json();
      expect(detail.messages).toHaveLength(6);
      expect(detail.hasMoreMessages).toBe(false);
    } finally {
      await unlimited.close();
    }
  });
});

describe('when Redis is unreachable at send time', () => {
  let app: FastifyInstance;
  let user: SignedIn;
  beforeAll(async () => {
    user = await signIn(t.app);
    app = await buildApp({ config: { ...t.config, redis: { ...t.config.redis, url: 'redis://127.0.0.1:1' } }, logger: false });
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers 503, stores nothing and charges nothing', async () => {
    const roomId = await createRoom(user);
    const res = await app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'hello?' }, headers: user.auth });
    expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
    expect(res.headers['retry-after']).toBeDefined();
    expect(await countMessages(user.userId)).toBe(0);
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().usage.used).toBe(0);
  });
});
