import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// No worker runs in this file: a reply stays queued until the test finishes it by hand, which is all the tree
// rules need (the model's view of a branch is tested with the worker, in the worker's tests).

interface Message {
  id: string;
  chatroomId: string;
  role: 'user' | 'assistant';
  status: string;
  parentId: string | null;
  replyToId: string | null;
  siblings: { index: number; count: number; previousId: string | null; nextId: string | null };
}

let t: TestApp;
let user: SignedIn;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '0' });
  user = await signIn(t.app);
});
afterAll(() => t.close());

const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, who: SignedIn = user, headers: Record<string, string> = {}) =>
  t.app.inject({ method, url, headers: { ...who.auth, ...headers }, ...(payload ? { payload } : {}) });
const createRoom = async (who: SignedIn = user) => (await call('POST', '/chatroom', { title: 'Tree' }, who)).json().id as string;
const finish = (replyId: string) => t.db.updateTable('message').set({ status: 'completed', content: 'answer' }).where('id', '=', replyId).execute();
const send = (roomId: string, content: string, parentId?: string | null, headers: Record<string, string> = {}) =>
  call('POST', `/chatroom/${roomId}/message`, { content, ...(parentId !== undefined ? { parentId } : {}) }, user, headers);
/** Sends and finishes the reply; returns both messages. */
async function exchange(roomId: string, content: string, parentId?: string | null): Promise<{ prompt: Message; reply: Message }> {
  const res = await send(roomId, content, parentId);
  expect(res.statusCode).toBe(202);
  await finish(res.json().reply.id);
  return { prompt: res.json().userMessage, reply: res.json().reply };
}

/** Every page of a branch, leaf first. */
async function wholeBranch(roomId: string, leafId?: string, limit = 3): Promise<Message[]> {
  const items: Message[] = [];
  let cursor: string | null = null;
  do {
    const query: string = [`limit=${limit}`, leafId && !cursor ? `leafId=${leafId}` : '', cursor ? `cursor=${cursor}` : ''].filter(Boolean).join('&');
    const res = await call('GET', `/chatroom/${roomId}/messages?${query}`);
    expect(res.statusCode).toBe(200);
    items.push(...res.json().items);
    cursor = res.json().nextCursor;
  } while (cursor);
  return items;
}

/** The invariants of a chatroom's tree, checked against the database and through the API. */
async function expectValidTree(roomId: string): Promise<void> {
  const rows = await t.db.selectFrom('message').selectAll().where('chatroom_id', '=', roomId).orderBy('seq').execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const row of rows) {
    if (row.role === 'assistant') {
      expect(row.parent_id).not.toBeNull();
      expect(byId.get(row.parent_id!)?.role).toBe('user');
      expect(row.reply_to_id).toBe(row.parent_id);
    } else if (row.parent_id !== null) {
      expect(byId.get(row.parent_id)?.role).toBe('assistant'); // also: the parent is in this chatroom
    }
  }
  expect(rows.filter((row) => row.status === 'queued' || row.status === 'generating').length).toBeLessThanOrEqual(1);
  const room = await t.db.selectFrom('chatroom').select('current_message_id').where('id', '=', roomId).executeTakeFirstOrThrow();
  if (rows.length === 0) return expect(room.current_message_id).toBeNull();
  const hasChildren = new Set(rows.map((row) => row.parent_id));
  const leaves = rows.filter((row) => !hasChildren.has(row.id));
  expect(leaves.map((row) => row.id)).toContain(room.current_message_id);
  for (const leaf of [undefined, ...leaves.map((row) => row.id)]) {
    const path = await wholeBranch(roomId, leaf);
    path.forEach((message, i) => {
      expect(message.chatroomId).toBe(roomId);
      expect(message.role).toBe(i % 2 === 0 ? 'assistant' : 'user'); // a leaf is a reply; turns alternate
      expect(message.parentId).toBe(path[i + 1]?.id ?? null); // each message is followed by its parent, up to a root
      const siblings = rows.filter((row) => row.parent_id === message.parentId);
      const index = siblings.findIndex((row) => row.id === message.id);
      expect(message.siblings).toEqual({
        index: index + 1,
        count: siblings.length,
        previousId: siblings[index - 1]?.id ?? null,
        nextId: siblings[index + 1]?.id ?? null,
      });
    });
    expect(path[0]!.id).toBe(leaf ?? room.current_message_id);
  }
}

describe('branches through the API', () => {
  it('pages a long branch with the cursor: the pages add up to the path, each message followed by its parent', async () => {
    const roomId = await createRoom();
    for (let i = 0; i < 7; i++) await exchange(roomId, `turn ${i}`);
    const path = await wholeBranch(roomId, undefined, 4);
    expect(path).toHaveLength(14);
    expect((await call('GET', `/chatroom/${roomId}`)).json()).toMatchObject({ hasMoreMessages: false, messages: path });
    await expectValidTree(roomId);
  });

  it('refuses parents and targets that do not fit, each with its own code', async () => {
    const other = await signIn(t.app);
    const roomId = await createRoom();
    const { prompt, reply } = await exchange(roomId, 'hello');
    const foreignRoom = await createRoom(other);
    const foreign = (await call('POST', `/chatroom/${foreignRoom}/message`, { content: 'theirs' }, other)).json();

    expectProblem(await send(roomId, 'x', prompt.id), 400, 'PARENT_NOT_A_REPLY');
    expectProblem(await send(roomId, 'x', randomUUID()), 404, 'MESSAGE_NOT_FOUND');
    expectProblem(await send(roomId, 'x', foreign.reply.id), 404, 'MESSAGE_NOT_FOUND');
    expectProblem(await send(roomId, 'x', 'not-a-uuid'), 400, 'VALIDATION_FAILED');
    expectProblem(await call('POST', `/chatroom/${roomId}/messages/${foreign.reply.id}/regenerate`), 404, 'MESSAGE_NOT_FOUND');
    expectProblem(await call('PATCH', `/chatroom/${roomId}`, { currentMessageId: foreign.reply.id }), 404, 'MESSAGE_NOT_FOUND');
    expectProblem(await call('GET', `/chatroom/${roomId}/messages?leafId=${randomUUID()}`), 404, 'MESSAGE_NOT_FOUND');
    expectProblem(await call('POST', `/chatroom/${roomId}/fork`, { messageId: prompt.id }), 400, 'NOT_A_REPLY');
    expectProblem(await call('POST', `/chatroom/${roomId}/fork`, { messageId: foreign.reply.id }), 404, 'MESSAGE_NOT_FOUND');
    expectProblem(await call('POST', `/chatroom/${foreignRoom}/fork`, { messageId: foreign.reply.id }), 404, 'CHATROOM_NOT_FOUND');
    expectProblem(await call('POST', `/chatroom/${roomId}/fork`, { messageId: reply.id, extra: true }), 400, 'VALIDATION_FAILED');

    // A reply still pending cannot be forked (a copy would stay queued for ever).
    const pending = (await send(roomId, 'slow')).json();
    expectProblem(await call('POST', `/chatroom/${roomId}/fork`, { messageId: pending.reply.id }), 409, 'REPLY_NOT_FINISHED');
    // The busy rule holds on every new path.
    expectProblem(await send(roomId, 'edit', reply.id), 409, 'CHATROOM_BUSY');
    expectProblem(await call('POST', `/chatroom/${roomId}/messages/${reply.id}/regenerate`), 409, 'CHATROOM_BUSY');
    await finish(pending.reply.id);
    await expectValidTree(roomId);
  });

  it('the Idempotency-Key covers parentId: the same key with another parent is 422, the same request replays', async () => {
    const roomId = await createRoom();
    const { reply } = await exchange(roomId, 'one');
    await exchange(roomId, 'two');
    const key = randomUUID();
    const first = await send(roomId, 'edit', reply.id, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    await finish(first.json().reply.id);
    const replay = await send(roomId, 'edit', reply.id, { 'idempotency-key': key });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    expectProblem(await send(roomId, 'edit', null, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectProblem(await send(roomId, 'edit', undefined, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('two edits of one prompt at once: one branch and one 409 CHATROOM_BUSY, never a broken tree', async () => {
    const roomId = await createRoom();
    const first = await exchange(roomId, 'one');
    const second = await exchange(roomId, 'two');
    const results = await Promise.all([
      send(roomId, 'two, edited (a)', second.prompt.parentId),
      send(roomId, 'two, edited (b)', second.prompt.parentId),
      call('POST', `/chatroom/${roomId}/messages/${first.reply.id}/regenerate`),
    ]);
    const accepted = results.filter((res) => res.statusCode === 202);
    expect(accepted).toHaveLength(1);
    for (const res of results.filter((r) => r.statusCode !== 202)) expectProblem(res, 409, 'CHATROOM_BUSY');
    const room = (await call('GET', `/chatroom/${roomId}`)).json();
    expect(room.currentMessageId).toBe(accepted[0]!.json().reply.id);
    await expectValidTree(roomId);
  });

  it('random sends, edits, regenerations, switches and forks keep every branch a valid root-to-leaf path', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('send' as const) }),
      fc.record({ kind: fc.constant('edit' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('root' as const) }),
      fc.record({ kind: fc.constant('regenerate' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('switch' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('fork' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const roomId = await createRoom();
        const rooms = [roomId];
        const all = async () => t.db.selectFrom('message').select(['id', 'role', 'parent_id']).where('chatroom_id', '=', roomId).orderBy('seq').execute();
        const pickFrom = <T>(list: T[], n: number) => list[n % list.length];
        for (const s of steps) {
          const messages = await all();
          const prompts = messages.filter((m) => m.role === 'user');
          const replies = messages.filter((m) => m.role === 'assistant');
          let res;
          if (s.kind === 'send' || (s.kind !== 'root' && messages.length === 0)) res = await send(roomId, 'next');
          else if (s.kind === 'root') res = await send(roomId, 'from the top', null);
          else if (s.kind === 'edit') res = await send(roomId, 'edited', pickFrom(prompts, s.pick)!.parent_id);
          else if (s.kind === 'regenerate') res = await call('POST', `/chatroom/${roomId}/messages/${pickFrom(replies, s.pick)!.id}/regenerate`);
          else if (s.kind === 'switch') res = await call('PATCH', `/chatroom/${roomId}`, { currentMessageId: pickFrom(messages, s.pick)!.id });
          else {
            res = await call('POST', `/chatroom/${roomId}/fork`, { messageId: pickFrom(replies, s.pick)!.id });
            expect(res.statusCode).toBe(201);
            rooms.push(res.json().id);
            continue;
          }
          expect([200, 202]).toContain(res.statusCode);
          if (res.statusCode === 202) await finish(res.json().reply.id);
        }
        for (const id of rooms) await expectValidTree(id);
      }),
      { numRuns: 25 },
    );
  });
});
