// GET /chatroom/:id and GET /user/me are kept in each API process's memory. Here instance B has both pages of a
// user in memory (proved: a change made with triggers off, which announces nothing, does not show there), then
// instance A, the worker or anyone else writes, and B must answer the new content within one hop (bounded
// polling). The database's triggers announce row changes, the quota's scripts count changes.
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQuota, createRedis, createStore, redisKeys, type Quota } from '@gemini-chat/shared';
import { fileUpload, post, signIn, startStack, waitFor, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

/** An API instance (the worker package does not depend on Fastify itself). */
type FastifyInstance = Awaited<ReturnType<Stack['buildAnotherApp']>>;

let s: Stack;
let b: FastifyInstance;
let redis: Redis;
let quota: Quota;
beforeAll(async () => {
  // A long TTL, so that nothing below can pass by an entry merely expiring.
  s = await startStack({ QUOTA_BASIC_DAILY: '100', LOCAL_CACHE_SECONDS: '120' }, { startWorker, worker: false });
  b = await s.buildAnotherApp();
  await b.ready();
  redis = createRedis(s.config.redis, { kind: 'command', name: 'test' });
  quota = createQuota(redis, redisKeys(s.config.redis.keyPrefix), s.config.quota, createStore(s.db).messages);
});
afterAll(async () => {
  redis.disconnect();
  await b.close();
  await s.close();
});

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
const call = (app: FastifyInstance, method: Method, url: string, who: SignedIn, payload?: object) =>
  app.inject({ method, url, headers: who.auth, ...(payload ? { payload } : {}) });
const onA = (method: Method, url: string, who: SignedIn, payload?: object) => call(s.app, method, url, who, payload);

interface Page {
  detail: { title: string; systemPrompt: string | null; model: string | null; settings: object; currentMessageId: string | null; messages: Message[] };
  me: { name: string | null; tier: string; usage: { used: number; inputTokens: number; outputTokens: number } };
}
interface Message {
  id: string;
  role: string;
  status: string;
  content: string;
  attachments: Array<{ id: string; deleted: boolean }>;
}

/** Both pages of `who` as B answers them now (the chatroom's as raw text too). */
async function pagesOnB(who: SignedIn, roomId: string): Promise<Page & { bodies: string[] }> {
  const detail = await call(b, 'GET', `/chatroom/${roomId}`, who);
  const me = await call(b, 'GET', '/user/me', who);
  expect(detail.statusCode).toBe(200);
  expect(me.statusCode).toBe(200);
  return { detail: detail.json(), me: me.json(), bodies: [detail.body, me.body] };
}

/** Runs statements with triggers off: a change nothing announces. */
async function silently(statements: (run: (query: ReturnType<typeof sql>) => Promise<unknown>) => Promise<void>): Promise<void> {
  await s.db.connection().execute(async (connection) => {
    await sql`set session_replication_role = replica`.execute(connection);
    try {
      await statements((query) => query.execute(connection));
    } finally {
      await sql`set session_replication_role = origin`.execute(connection);
    }
  });
}

let marks = 0;
/** The user's name as the last warm() left it (silently). */
const nameMarks = new Map<string, string>();
/**
 * Waits until B serves both pages of `who` from memory: a silent change of the chatroom and the user does not show.
 * Returns the silent mark, which shows once B has dropped the pages.
 */
async function warm(who: SignedIn, roomId: string): Promise<string> {
  return waitFor(async () => {
    const before = await pagesOnB(who, roomId);
    const mark = `silent ${++marks}`;
    await silently(async (run) => {
      await run(sql`update chatroom set system_prompt = ${mark} where id = ${roomId}`);
      await run(sql`update users set name = ${mark} where id = ${who.userId}`);
    });
    const after = await pagesOnB(who, roomId);
    if (after.bodies[0] !== before.bodies[0] || after.bodies[1] !== before.bodies[1]) return undefined;
    nameMarks.set(who.userId, mark);
    return mark;
  }, 5000, 50);
}

/** B shows what `check` wants within one hop (bounded polling), and has dropped both cached pages (the silent mark shows). */
async function onBSoon(who: SignedIn, roomId: string, mark: string, check: (page: Page) => boolean): Promise<Page> {
  let last: Page | undefined;
  try {
    return await waitFor(async () => {
      const page = (last = await pagesOnB(who, roomId));
      return page.detail.systemPrompt === mark && page.me.name === nameMarks.get(who.userId) && check(page) ? page : undefined;
    }, 1000, 10);
  } catch (err) {
    throw new Error(`B still answers ${JSON.stringify(last)} (expected the mark ${mark})`, { cause: err });
  }
}

const workerRunning = async () => void (s.worker ?? (await s.startWorker()));
const newRoom = async (who: SignedIn, title = 'Room') => (await onA('POST', '/chatroom', who, { title })).json().id as string;
const messageRow = (id: string) => s.db.selectFrom('message').select(['status', 'content']).where('id', '=', id).executeTakeFirstOrThrow();

describe('writes by the worker (and the quota refunds it gives)', () => {
  it('a reply completed, one failed and one cancelled show on B, with the usage and refund in /user/me', async () => {
    const user = await signIn(s.app);
    const rooms = { ok: await newRoom(user), failed: await newRoom(user), cancelled: await newRoom(user) };
    const sent = {
      ok: (await onA('POST', `/chatroom/${rooms.ok}/message`, user, { content: 'Say something' })).json(),
      failed: (await onA('POST', `/chatroom/${rooms.failed}/message`, user, { content: 'Break [[fail:400]]' })).json(),
      cancelled: (await onA('POST', `/chatroom/${rooms.cancelled}/message`, user, { content: 'Wait [[hang]]' })).json(),
    };
    // The worker is not running yet: B keeps the queued replies and the count of 3.
    const marks = { ok: await warm(user, rooms.ok), failed: await warm(user, rooms.failed) };
    expect((await pagesOnB(user, rooms.ok)).me.usage.used).toBe(3);
    const reply = (page: Page) => page.detail.messages.find((m) => m.role === 'assistant')!;

    await workerRunning();
    await waitFor(async () => (await messageRow(sent.ok.reply.id)).status === 'completed');
    const completed = await onBSoon(user, rooms.ok, marks.ok, (page) => reply(page).status === 'completed');
    expect(reply(completed).content).toBe((await messageRow(sent.ok.reply.id)).content);
    // The reply's tokens are counted on the user's day (user_token_usage).
    expect(completed.me.usage.inputTokens).toBeGreaterThan(0);

    await waitFor(async () => (await messageRow(sent.failed.reply.id)).status === 'failed');
    // Failed without text: the worker refunds the unit (Redis, outside any Postgres transaction).
    await onBSoon(user, rooms.failed, marks.failed, (page) => reply(page).status === 'failed' && page.me.usage.used === 2);

    await waitFor(async () => (await messageRow(sent.cancelled.reply.id)).status === 'generating');
    const again = await warm(user, rooms.cancelled);
    expect((await onA('POST', `/chatroom/${rooms.cancelled}/messages/${sent.cancelled.reply.id}/cancel`, user)).statusCode).toBe(200);
    await waitFor(async () => (await messageRow(sent.cancelled.reply.id)).status === 'cancelled');
    await onBSoon(user, rooms.cancelled, again, (page) => reply(page).status === 'cancelled');
  });
  it('the text a reply being generated has saved so far', async () => {
    await workerRunning();
    const user = await signIn(s.app);
    const roomId = await newRoom(user);
    const sent = (await onA('POST', `/chatroom/${roomId}/message`, user, { content: 'Slowly [[slow:200]] [[chunks:60]]' })).json();
    await waitFor(async () => (await messageRow(sent.reply.id)).content.length > 0);
    const mark = await warm(user, roomId);
    const shown = (page: Page) => page.detail.messages.find((m) => m.role === 'assistant')!.content;
    const cached = shown(await pagesOnB(user, roomId));
    // The worker's next save (one every few seconds) changes the message row alone.
    await waitFor(async () => {
      const row = await messageRow(sent.reply.id);
      return row.status === 'generating' && row.content.length > cached.length;
    });
    await onBSoon(user, roomId, mark, (page) => shown(page).length > cached.length);
  });
});

describe('writes through instance A', () => {
  beforeAll(workerRunning);
  /** A chatroom with one finished exchange; returns its id, prompt and reply. */
  async function exchange(who: SignedIn, extra: object = {}) {
    const roomId = await newRoom(who);
    const res = await s.app.inject({
      method: 'POST',
      url: `/chatroom/${roomId}/message`,
      headers: { ...who.auth, prefer: 'wait=20' },
      payload: { content: 'First', ...extra },
    });
    expect(res.statusCode).toBe(200);
    return { roomId, prompt: res.json().userMessage as Message, reply: res.json().reply as Message };
  }
  const finished = (id: string) => waitFor(async () => ['completed', 'failed'].includes((await messageRow(id)).status));

  it('a send, an edit, a regeneration and a branch switch', async () => {
    const user = await signIn(s.app);
    const { roomId, prompt, reply } = await exchange(user);
    let mark = await warm(user, roomId);
    const used = (await pagesOnB(user, roomId)).me.usage.used;
    const second = (await onA('POST', `/chatroom/${roomId}/message`, user, { content: 'Second' })).json();
    await onBSoon(user, roomId, mark, (page) => page.detail.messages.some((m) => m.content === 'Second') && page.me.usage.used === used + 1);
    await finished(second.reply.id);

    mark = await warm(user, roomId);
    const edited = (await onA('POST', `/chatroom/${roomId}/message`, user, { content: 'First, edited', parentId: null })).json();
    await onBSoon(user, roomId, mark, (page) => page.detail.messages.some((m) => m.content === 'First, edited'));
    await finished(edited.reply.id);

    mark = await warm(user, roomId);
    const regenerated = (await onA('POST', `/chatroom/${roomId}/messages/${edited.reply.id}/regenerate`, user)).json();
    await onBSoon(user, roomId, mark, (page) => page.detail.messages.some((m) => m.id === regenerated.reply.id));
    await finished(regenerated.reply.id);

    mark = await warm(user, roomId);
    expect((await onA('PATCH', `/chatroom/${roomId}`, user, { currentMessageId: prompt.id })).statusCode).toBe(200);
    await onBSoon(user, roomId, mark, (page) => page.detail.messages.some((m) => m.id === reply.id));
  });

  it('a rename and new settings; a profile change', async () => {
    const user = await signIn(s.app);
    const roomId = await newRoom(user);
    let mark = await warm(user, roomId);
    expect((await onA('PATCH', `/chatroom/${roomId}`, user, { title: 'Renamed', settings: { temperature: 0.5 } })).statusCode).toBe(200);
    await onBSoon(user, roomId, mark, (page) => page.detail.title === 'Renamed' && JSON.stringify(page.detail.settings) === '{"temperature":0.5}');
    mark = await warm(user, roomId);
    expect((await onA('PATCH', '/user/me', user, { email: 'someone@example.com' })).statusCode).toBe(200);
    await onBSoon(user, roomId, mark, () => true);
  });

  it('deleting a file attached to a prompt on the page', async () => {
    const user = await signIn(s.app);
    const upload = fileUpload('attached text', 'notes.txt');
    const file = await s.app.inject({ method: 'POST', url: '/files', headers: { ...user.auth, ...upload.headers }, payload: upload.payload });
    expect(file.statusCode).toBe(201);
    const { roomId } = await exchange(user, { attachments: [file.json().id] });
    const mark = await warm(user, roomId);
    const prompt = (page: Page) => page.detail.messages.find((m) => m.role === 'user')!;
    expect(prompt(await pagesOnB(user, roomId)).attachments).toEqual([expect.objectContaining({ deleted: false })]);
    expect((await onA('DELETE', `/files/${file.json().id as string}`, user)).statusCode).toBe(204);
    await onBSoon(user, roomId, mark, (page) => prompt(page).attachments[0]?.deleted === true);
  });

  it('an import', async () => {
    const user = await signIn(s.app);
    const { roomId } = await exchange(user);
    const exported = (await onA('GET', `/chatroom/${roomId}/export`, user)).json();
    const mark = await warm(user, roomId);
    expect((await onA('POST', '/chatroom/import', user, exported)).statusCode).toBe(201);
    await onBSoon(user, roomId, mark, () => true);
  });

  it('a tier change as billing commits it, and quota charges and refunds made by another process', async () => {
    const user = await signIn(s.app);
    const roomId = await newRoom(user);
    let mark = await warm(user, roomId);
    await s.db.updateTable('users').set({ tier: 'pro' }).where('id', '=', user.userId).execute();
    await onBSoon(user, roomId, mark, (page) => page.me.tier === 'pro');

    mark = await warm(user, roomId);
    const charged = await quota.charge(user.userId, 'pro');
    expect(charged.admitted).toBe(true);
    await onBSoon(user, roomId, mark, (page) => page.me.usage.used === 1);
    mark = await warm(user, roomId);
    await quota.refund(user.userId, charged.day, 'a charge of this test');
    await onBSoon(user, roomId, mark, (page) => page.me.usage.used === 0);
  });

  it('an account deletion: B refuses both pages', async () => {
    const user = await signIn(s.app);
    const roomId = await newRoom(user);
    await warm(user, roomId);
    const otp = (await post(s.app, '/auth/send-otp', { mobileNumber: user.mobileNumber, purpose: 'delete_account' })).json().otp;
    expect((await onA('DELETE', '/user/me', user, { otp })).statusCode).toBe(204);
    await waitFor(async () => {
      const [detail, me] = await Promise.all([call(b, 'GET', `/chatroom/${roomId}`, user), call(b, 'GET', '/user/me', user)]);
      return detail.statusCode === 401 && me.statusCode === 401;
    }, 1000, 10);
  });
});

describe('what the cache keeps apart', () => {
  it('another user\'s writes leave this user\'s pages in memory', async () => {
    const [user, other] = [await signIn(s.app), await signIn(s.app)];
    const roomId = await newRoom(user);
    await warm(user, roomId);
    const kept = await pagesOnB(user, roomId);
    const theirs = await newRoom(other);
    await onA('POST', `/chatroom/${theirs}/message`, other, { content: 'Theirs' });
    await onA('PATCH', `/chatroom/${theirs}`, other, { title: 'Theirs' });
    await quota.charge(other.userId, 'basic');
    await new Promise((resolve) => setTimeout(resolve, 100)); // more than the hop
    expect((await pagesOnB(user, roomId)).bodies).toEqual(kept.bodies);
  });

  it('someone else\'s chatroom is 404 on B every time, though its owner\'s page is in memory there', async () => {
    const [owner, other] = [await signIn(s.app), await signIn(s.app)];
    const roomId = await newRoom(owner);
    await warm(owner, roomId);
    for (let i = 0; i < 3; i++) expect((await call(b, 'GET', `/chatroom/${roomId}`, other)).statusCode).toBe(404);
    expect((await call(b, 'GET', `/chatroom/${roomId}`, owner)).statusCode).toBe(200);
  });

  it('reads go through while B\'s LISTEN connection is down, and B caches again once it is back', async () => {
    const user = await signIn(s.app);
    const roomId = await newRoom(user);
    await warm(user, roomId);
    // Every API instance of this schema listens on its channel; ending those connections is what an outage does.
    const { rows } = await sql<{ ended: boolean }>`
      select pg_terminate_backend(pid) as ended from pg_stat_activity
      where query = ${`listen "user_changes_${await channelSuffix()}"`}`.execute(s.db);
    expect(rows.length).toBeGreaterThanOrEqual(2); // A and B
    // From the moment B notices, every read reaches the database: a silent change shows at once.
    await waitFor(async () => {
      const mark = `down ${++marks}`;
      await silently((run) => run(sql`update chatroom set system_prompt = ${mark} where id = ${roomId}`).then(() => {}));
      return (await pagesOnB(user, roomId)).detail.systemPrompt === mark;
    }, 1000, 10);
    // Reconnected (with backoff): served from memory again.
    await warm(user, roomId);
  });
});

async function channelSuffix(): Promise<string> {
  const { rows } = await sql<{ md5: string }>`select md5(${s.config.database.schema!}) as md5`.execute(s.db);
  return rows[0]!.md5;
}
