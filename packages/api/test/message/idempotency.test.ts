import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// No worker runs in this file: a reply stays queued until the test finishes it by hand.
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ QUOTA_BASIC_DAILY: '5' });
});
afterAll(() => t.close());

const createRoom = async (user: SignedIn) =>
  (await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'Room' }, headers: user.auth })).json().id as string;
const send = (user: SignedIn, roomId: string, content: string, key: string) =>
  t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content }, headers: { ...user.auth, 'idempotency-key': key } });
const regenerate = (user: SignedIn, roomId: string, messageId: string, key: string) =>
  t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/messages/${messageId}/regenerate`, headers: { ...user.auth, 'idempotency-key': key } });
const finishReply = (replyId: string) => t.db.updateTable('message').set({ status: 'completed', content: 'done' }).where('id', '=', replyId).execute();
const storedKeys = async (userId: string) =>
  (await t.db.selectFrom('idempotency_key').select('key').where('user_id', '=', userId).execute()).map((row) => row.key);
const used = async (user: SignedIn) => (await t.app.inject({ url: '/user/me', headers: user.auth })).json().usage.used as number;

describe('Idempotency-Key and rejected sends', () => {
  it('a send answered 409 CHATROOM_BUSY leaves its key free: the same key succeeds once the chatroom is free, then replays', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const first = await send(user, roomId, 'first', randomUUID());
    expect(first.statusCode).toBe(202);

    const key = randomUUID();
    expectProblem(await send(user, roomId, 'second', key), 409, 'CHATROOM_BUSY');
    // Retrying while still busy is the same answer, never a 500.
    expectProblem(await send(user, roomId, 'second', key), 409, 'CHATROOM_BUSY');
    expect(await storedKeys(user.userId)).not.toContain(key);

    await finishReply(first.json().reply.id);
    const accepted = await send(user, roomId, 'second', key);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers['idempotent-replayed']).toBeUndefined();
    expect(accepted.json().userMessage.content).toBe('second');

    const replayed = await send(user, roomId, 'second', key);
    expect(replayed.statusCode).toBe(202);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(accepted.json());
    expect(await used(user)).toBe(2);
  });

  it('no rejection stores the key: unknown chatroom, unknown or wrong parent, regenerating a prompt, quota exceeded', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const missingRoom = randomUUID();
    const keys = { missing: randomUUID(), unknownParent: randomUUID(), promptParent: randomUUID(), notAReply: randomUUID(), overQuota: randomUUID() };

    expectProblem(await send(user, missingRoom, 'hello', keys.missing), 404, 'CHATROOM_NOT_FOUND');

    const first = (await send(user, roomId, 'one', randomUUID())).json();
    await finishReply(first.reply.id);
    const second = (await send(user, roomId, 'two', randomUUID())).json();
    await finishReply(second.reply.id);
    const withParent = (parentId: string, key: string) =>
      t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'edit', parentId }, headers: { ...user.auth, 'idempotency-key': key } });
    expectProblem(await withParent(randomUUID(), keys.unknownParent), 404, 'MESSAGE_NOT_FOUND');
    expectProblem(await withParent(second.userMessage.id, keys.promptParent), 400, 'PARENT_NOT_A_REPLY');
    expectProblem(await regenerate(user, roomId, first.userMessage.id, keys.notAReply), 400, 'NOT_A_REPLY');

    // Use the rest of the day's quota in rooms of their own, then one more is refused.
    for (let i = 0; i < 3; i++) expect((await send(user, await createRoom(user), `fill ${i}`, randomUUID())).statusCode).toBe(202);
    expectProblem(await send(user, await createRoom(user), 'over', keys.overQuota), 429, 'QUOTA_EXCEEDED');

    const stored = await storedKeys(user.userId);
    for (const key of Object.values(keys)) expect(stored).not.toContain(key);
  });

  it('a placeholder row an earlier version left behind (status 0) never answers 500: the key is taken over', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const key = randomUUID();
    const content = 'left behind';
    // What a rejected send used to commit: the claim, with no response recorded.
    const requestHash = createHash('sha256').update(`${roomId}\n${content}`).digest('hex');
    await t.db.insertInto('idempotency_key').values({ user_id: user.userId, key, request_hash: requestHash, response_status: 0, response_body: '{}' }).execute();

    const res = await send(user, roomId, content, key);
    expect(res.statusCode).toBe(202);
    expect(res.json().userMessage.content).toBe(content);
    const again = await send(user, roomId, content, key);
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(res.json());
  });
});
