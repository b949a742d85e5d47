import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStorageKey, type ObjectStorage } from '@gemini-chat/shared';
import type { SignedIn, Stack } from '@gemini-chat/testkit';
import { startAttachmentStack, type AttachmentStack } from './support/attachment-stack.js';

// Attachments reach the model as parts: small ones inline, deleted or lost ones as notes, earlier turns' within the
// context budget.
const INLINE_MAX = 1000;
let stack: AttachmentStack;
let s: Stack;
let storage: ObjectStorage;
let user: SignedIn;
let dir: string;
beforeAll(async () => {
  stack = await startAttachmentStack({ GEMINI_INLINE_MAX_BYTES: String(INLINE_MAX), GEMINI_CONTEXT_TOKEN_BUDGET: '3000', REPLY_MAX_ATTEMPTS: '2' });
  ({ s, storage, user, dir } = stack);
});
afterAll(() => stack.close());

const replyCalls = () => stack.replyBodies();
const lastReplyBody = () => stack.replyBodies().at(-1)!;
const room = () => stack.room();
const storeFile = (bytes: Buffer, mimeType?: string, name?: string) => stack.storeFile(bytes, mimeType, name);
const ask = (chatroomId: string, content: string, fileIds?: string[]) => stack.ask(chatroomId, content, fileIds);
const fileRow = (id: string) => s.db.selectFrom('file').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('attachments sent to the model', () => {
  it('sends a small file inline, before the text, in the type Gemini takes, and stores what it costs', async () => {
    const bytes = Buffer.from('# Notes\n\nSmall enough to go inline.');
    const first = await storeFile(bytes, 'text/markdown', 'notes.md');
    const second = await storeFile(Buffer.from('a,b\n1,2\n'), 'text/csv', 'table.csv');
    const reply = await ask(await room(), 'Summarise these', [first, second]);
    expect(reply.status).toBe('completed');
    const prompt = lastReplyBody().contents.at(-1)!;
    expect(prompt.parts).toEqual([
      { inlineData: { mimeType: 'text/plain', data: bytes.toString('base64') } },
      { inlineData: { mimeType: 'text/csv', data: Buffer.from('a,b\n1,2\n').toString('base64') } },
      { text: 'Summarise these' },
    ]);
    expect((await fileRow(first)).token_count).not.toBeNull();
  });

  it('shows a deleted file, or one whose bytes are gone, as a note instead of failing the reply', async () => {
    const deleted = await storeFile(Buffer.from('gone soon'), 'text/plain', 'old.txt');
    await storage.delete(fileStorageKey(user.userId, deleted));
    await s.db.updateTable('file').set({ deleted_at: new Date() }).where('id', '=', deleted).execute();
    const lost = await storeFile(Buffer.from('storage lost me'), 'application/pdf', 'lost.pdf');
    await storage.delete(fileStorageKey(user.userId, lost));

    const reply = await ask(await room(), 'What did I send?', [deleted, lost]);
    expect(reply.status).toBe('completed');
    expect(lastReplyBody().contents.at(-1)!.parts).toEqual([
      { text: '[attachment "old.txt" (text/plain) was deleted]' },
      { text: '[attachment "lost.pdf" (application/pdf) was deleted]' },
      { text: 'What did I send?' },
    ]);
  });

  it('keeps earlier turns\' attachments in the context, dropping the oldest exchange whose files do not fit', async () => {
    const id = await room();
    const old = await storeFile(Buffer.from('oldest attachment'));
    const recent = await storeFile(Buffer.from('recent attachment'));
    // What Gemini counted for them earlier (stored on the row): two of them do not fit the 3000-token budget.
    await s.db.updateTable('file').set({ token_count: 1600 }).where('id', 'in', [old, recent]).execute();
    expect((await ask(id, 'First, with the old file', [old])).status).toBe('completed');
    expect((await ask(id, 'Second, with the recent file', [recent])).status).toBe('completed');
    const countsBefore = s.gemini.requests.filter((r) => r.action === 'countTokens').length;
    expect((await ask(id, 'Third, with a new file', [await storeFile(Buffer.from('new one'))])).status).toBe('completed');

    const contents = lastReplyBody().contents;
    const userTurns = contents.filter((c) => c.role === 'user');
    expect(userTurns.map((c) => c.parts.at(-1)!.text)).toEqual(['Second, with the recent file', 'Third, with a new file']);
    expect(userTurns[0]!.parts[0]).toEqual({ inlineData: { mimeType: 'text/plain', data: Buffer.from('recent attachment').toString('base64') } });
    expect(JSON.stringify(contents)).not.toContain(Buffer.from('oldest attachment').toString('base64'));
    // Stored counts are reused; only the new file was counted.
    expect(s.gemini.requests.filter((r) => r.action === 'countTokens').length - countsBefore).toBe(1);
  });

  it('retries a reply whose file storage cannot read, then fails it as a service outage (no model call)', async () => {
    const id = await storeFile(Buffer.from('unreadable'));
    // A directory where the object should be: the driver fails with an error that is not "not found".
    const path = join(dir, fileStorageKey(user.userId, id));
    await rm(path);
    await mkdir(path);
    const before = replyCalls().length;
    const reply = await ask(await room(), 'Read this', [id]);
    expect(reply).toMatchObject({ status: 'failed', error: { code: 'SERVICE_UNAVAILABLE' } });
    expect(replyCalls().length).toBe(before);
  });
});
