import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, filesUnder, fileUpload, pdfFixture, pngFixture, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// No worker runs in this file: replies stay queued until a test finishes them by hand.
const TEXT_ONLY_MODEL = 'gemini-2.5-flash-preview-tts';
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({
    GEMINI_MODEL: 'gemini-3.8-flash',
    GEMINI_MODELS: `gemini-3.8-flash:basic+pro,${TEXT_ONLY_MODEL}:basic+pro`,
    QUOTA_BASIC_DAILY: '100',
  });
});
afterAll(() => t.close());

interface Uploaded {
  id: string;
  name: string;
  mimeType: string;
  sizeBytes: number;
}
const upload = async (user: SignedIn, data: Buffer | string, name: string): Promise<Uploaded> => {
  const body = fileUpload(data, name);
  const res = await t.app.inject({ method: 'POST', url: '/files', payload: body.payload, headers: { ...user.auth, ...body.headers } });
  if (res.statusCode !== 201) throw new Error(`upload failed: ${res.statusCode} ${res.body}`);
  return res.json();
};
const createRoom = async (user: SignedIn) =>
  (await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'Room' }, headers: user.auth })).json().id as string;
const send = (user: SignedIn, roomId: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload, headers: { ...user.auth, ...headers } });
const finishReply = (replyId: string) => t.db.updateTable('message').set({ status: 'completed', content: 'done' }).where('id', '=', replyId).execute();
const messageCount = async (roomId: string) =>
  Number((await t.db.selectFrom('message').select((eb) => eb.fn.countAll().as('n')).where('chatroom_id', '=', roomId).executeTakeFirstOrThrow()).n);
const shown = (file: Uploaded, deleted = false) => ({ id: file.id, name: file.name, mimeType: file.mimeType, sizeBytes: file.sizeBytes, deleted });
const storageUsed = async (userId: string) =>
  Number((await t.db.selectFrom('users').select('storage_used_bytes').where('id', '=', userId).executeTakeFirstOrThrow()).storage_used_bytes);

describe('sending a prompt with attachments', () => {
  it('attaches the files in order and every message view shows them; a deleted file stays listed, marked deleted', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const png = await upload(user, pngFixture(), 'cat.png');
    const pdf = await upload(user, pdfFixture(2), 'paper.pdf');
    const notes = await upload(user, 'some notes', 'notes.md');

    const res = await send(user, roomId, { content: 'Look at these', attachments: [pdf.id, png.id, notes.id] });
    expect(res.statusCode).toBe(202);
    const { userMessage, reply } = res.json();
    expect(userMessage.attachments).toEqual([shown(pdf), shown(png), shown(notes)]);
    expect(reply.attachments).toEqual([]);

    const get = await t.app.inject({ url: `/chatroom/${roomId}/messages/${userMessage.id}`, headers: user.auth });
    expect(get.json().attachments).toEqual([shown(pdf), shown(png), shown(notes)]);

    expect((await t.app.inject({ method: 'DELETE', url: `/files/${png.id}`, headers: user.auth })).statusCode).toBe(204);
    const list = await t.app.inject({ url: `/chatroom/${roomId}/messages`, headers: user.auth });
    const prompt = list.json().items.find((m: { id: string }) => m.id === userMessage.id);
    expect(prompt.attachments).toEqual([shown(pdf), shown(png, true), shown(notes)]);
    const detail = await t.app.inject({ url: `/chatroom/${roomId}`, headers: user.auth });
    expect(detail.json().messages.find((m: { id: string }) => m.id === userMessage.id).attachments).toEqual([shown(pdf), shown(png, true), shown(notes)]);

    // An edit (a new branch from the same parent) takes attachments too.
    await finishReply(reply.id);
    const edit = await send(user, roomId, { content: 'Only the notes', parentId: null, attachments: [notes.id] });
    expect(edit.statusCode).toBe(202);
    expect(edit.json().userMessage.attachments).toEqual([shown(notes)]);
  });

  it('refuses another user\'s, a deleted or an unknown file with 404 FILE_NOT_FOUND, storing nothing', async () => {
    const alice = await signIn(t.app);
    const bob = await signIn(t.app);
    const roomId = await createRoom(alice);
    const mine = await upload(alice, 'mine', 'a.txt');
    const bobs = await upload(bob, 'bob', 'b.txt');
    const gone = await upload(alice, 'gone', 'c.txt');
    await t.app.inject({ method: 'DELETE', url: `/files/${gone.id}`, headers: alice.auth });

    for (const id of [bobs.id, gone.id, randomUUID()]) {
      expectProblem(await send(alice, roomId, { content: 'hi', attachments: [mine.id, id] }), 404, 'FILE_NOT_FOUND');
    }
    expect(await messageCount(roomId)).toBe(0);
    expect(await t.db.selectFrom('message_attachment').selectAll().execute()).not.toContainEqual(expect.objectContaining({ file_id: bobs.id }));
  });

  it('validates the list: uuids, each once, at most ten', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const file = await upload(user, 'x', 'x.txt');
    expectProblem(await send(user, roomId, { content: 'hi', attachments: [file.id, file.id] }), 400, 'VALIDATION_FAILED');
    expectProblem(await send(user, roomId, { content: 'hi', attachments: ['../etc/passwd'] }), 400, 'VALIDATION_FAILED');
    expectProblem(await send(user, roomId, { content: 'hi', attachments: Array.from({ length: 11 }, () => randomUUID()) }), 400, 'VALIDATION_FAILED');
    expect(await messageCount(roomId)).toBe(0);
  });

  it('refuses a file the reply\'s model cannot read with 400 ATTACHMENT_NOT_SUPPORTED; text goes to any model', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const png = await upload(user, pngFixture(), 'cat.png');
    const text = await upload(user, 'words', 'w.txt');
    const refused = expectProblem(await send(user, roomId, { content: 'hi', model: TEXT_ONLY_MODEL, attachments: [text.id, png.id] }), 400, 'ATTACHMENT_NOT_SUPPORTED');
    expect(refused.errors).toEqual([expect.objectContaining({ field: 'attachments.1' })]);
    expect(await messageCount(roomId)).toBe(0);
    expect((await send(user, roomId, { content: 'hi', model: TEXT_ONLY_MODEL, attachments: [text.id] })).statusCode).toBe(202);
  });

  it('an Idempotency-Key replays a send with the same attachments and refuses the key with different ones', async () => {
    const user = await signIn(t.app);
    const roomId = await createRoom(user);
    const a = await upload(user, 'a', 'a.txt');
    const b = await upload(user, 'b', 'b.txt');
    const key = randomUUID();
    const first = await send(user, roomId, { content: 'hi', attachments: [a.id] }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    const again = await send(user, roomId, { content: 'hi', attachments: [a.id] }, { 'idempotency-key': key });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expectProblem(await send(user, roomId, { content: 'hi', attachments: [b.id] }, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED');
    expectProblem(await send(user, roomId, { content: 'hi' }, { 'idempotency-key': key }), 422, 'IDEMPOTENCY_KEY_REUSED');
  });
});

describe('deleting a chatroom', () => {
  it('removes the files used only there (objects, storage) and keeps those another chatroom or nothing uses', async () => {
    const user = await signIn(t.app);
    const doomed = await createRoom(user);
    const other = await createRoom(user);
    const onlyHere = await upload(user, 'only here', 'only.txt');
    const shared = await upload(user, 'shared', 'shared.txt');
    const unused = await upload(user, 'unused', 'unused.txt');
    const first = await send(user, doomed, { content: 'one', attachments: [onlyHere.id, shared.id] });
    await finishReply(first.json().reply.id);
    expect((await send(user, doomed, { content: 'two', attachments: [onlyHere.id] })).statusCode).toBe(202);
    expect((await send(user, other, { content: 'three', attachments: [shared.id] })).statusCode).toBe(202);

    expect((await t.app.inject({ method: 'DELETE', url: `/chatroom/${doomed}`, headers: user.auth })).statusCode).toBe(204);

    expectProblem(await t.app.inject({ url: `/files/${onlyHere.id}`, headers: user.auth }), 404, 'FILE_NOT_FOUND');
    for (const kept of [shared, unused]) expect((await t.app.inject({ url: `/files/${kept.id}/content`, headers: user.auth })).statusCode).toBe(200);
    expect(await storageUsed(user.userId)).toBe(shared.sizeBytes + unused.sizeBytes);
    const objects = filesUnder(t.filesDir).filter((path) => path.startsWith(`files/${user.userId}/`)).sort();
    expect(objects).toEqual([shared.id, unused.id].map((id) => `files/${user.userId}/${id}`).sort());
    const row = await t.db.selectFrom('file').select('deleted_at').where('id', '=', onlyHere.id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
  });
});
