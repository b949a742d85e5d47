import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '@gemini-chat/testkit';
import { startAttachmentStack, type AttachmentStack, type WirePart } from './support/attachment-stack.js';

// Files larger than GEMINI_INLINE_MAX_BYTES go through the (fake) Files API.
let stack: AttachmentStack;
let s: Stack;
beforeAll(async () => {
  stack = await startAttachmentStack({ GEMINI_INLINE_MAX_BYTES: '1000' });
  s = stack.s;
});
afterAll(() => stack.close());

const replyCalls = () => s.gemini.requests.filter((r) => r.action === 'streamGenerateContent');
const userTurns = (call = replyCalls().at(-1)!) => (call.body as { contents: Array<{ role: string; parts: WirePart[] }> }).contents.filter((c) => c.role === 'user');
const uploads = () => s.gemini.requests.filter((r) => r.action === 'files.upload').length;

const bigText = (label: string) => Buffer.from(`${label}\n${'A long document line.\n'.repeat(100)}`);

const room = () => stack.room();
const storeFile = (bytes: Buffer, mimeType?: string, name = 'report.txt') => stack.storeFile(bytes, mimeType, name);
const ask = (chatroomId: string, content: string, fileIds?: string[]) => stack.ask(chatroomId, content, fileIds);
const fileRow = (id: string) => s.db.selectFrom('file').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('large attachments through the Files API', () => {
  it('uploads a large file once, sends it by the URI Gemini issued, and reuses that copy in later replies', async () => {
    const id = await room();
    const file = await storeFile(bigText('reused'));
    const before = uploads();
    expect((await ask(id, 'Read the report', [file])).status).toBe('completed');
    expect(uploads() - before).toBe(1);

    const row = await fileRow(file);
    expect(row.gemini_file_uri).toBeTruthy();
    expect(row.gemini_file_expires_at!.getTime()).toBeGreaterThan(Date.now() + 24 * 3600_000);
    const issued = s.gemini.files.find((f) => f.name === row.gemini_file_name);
    expect(issued?.uri).toBe(row.gemini_file_uri);
    expect(userTurns().at(-1)!.parts).toEqual([{ fileData: { fileUri: row.gemini_file_uri, mimeType: 'text/plain' } }, { text: 'Read the report' }]);
    expect(row.token_count).toBeGreaterThan(0);

    // Attached again, and still in the context from the first turn: the same copy, no new upload.
    expect((await ask(id, 'Again', [file])).status).toBe('completed');
    expect(uploads() - before).toBe(1);
    const turns = userTurns();
    expect(turns.map((t) => t.parts[0])).toEqual([
      { fileData: { fileUri: row.gemini_file_uri, mimeType: 'text/plain' } },
      { fileData: { fileUri: row.gemini_file_uri, mimeType: 'text/plain' } },
    ]);
  });

  it('uploads again a copy that has expired, or is about to', async () => {
    const file = await storeFile(bigText('expiring'));
    expect((await ask(await room(), 'First look', [file])).status).toBe('completed');
    const first = await fileRow(file);

    // Half an hour left: too close to trust for a reply that may be retried.
    await s.db.updateTable('file').set({ gemini_file_expires_at: new Date(Date.now() + 30 * 60_000) }).where('id', '=', file).execute();
    const before = uploads();
    expect((await ask(await room(), 'Second look', [file])).status).toBe('completed');
    expect(uploads() - before).toBe(1);
    const second = await fileRow(file);
    expect(second.gemini_file_uri).not.toBe(first.gemini_file_uri);
    expect(userTurns().at(-1)!.parts[0]).toEqual({ fileData: { fileUri: second.gemini_file_uri, mimeType: 'text/plain' } });
  });

  it('uploads again and retries once when Gemini answers 403 for a file it no longer has', async () => {
    const file = await storeFile(bigText('vanishing'));
    expect((await ask(await room(), 'Keep this', [file])).status).toBe('completed');
    const stale = await fileRow(file);
    expect(s.gemini.expireFile(stale.gemini_file_name!)).toBe(true); // gone on Gemini's side, still fresh on our row

    const callsBefore = replyCalls().length;
    const uploadsBefore = uploads();
    const reply = await ask(await room(), 'Use it again', [file]);
    expect(reply.status).toBe('completed');
    const calls = replyCalls().slice(callsBefore);
    expect(calls.map((c) => c.status)).toEqual([403, 200]);
    expect(userTurns(calls[0]).at(-1)!.parts[0]!.fileData!.fileUri).toBe(stale.gemini_file_uri);
    const fresh = await fileRow(file);
    expect(fresh.gemini_file_uri).not.toBe(stale.gemini_file_uri);
    expect(userTurns(calls[1]).at(-1)!.parts[0]!.fileData!.fileUri).toBe(fresh.gemini_file_uri);
    expect(uploads() - uploadsBefore).toBe(1);
  });

  it('waits for a file Gemini is still processing before sending it', async () => {
    const file = await storeFile(bigText('processing'));
    s.gemini.processNextUploads(1);
    const gets = () => s.gemini.requests.filter((r) => r.action === 'files.get').length;
    const before = gets();
    expect((await ask(await room(), 'Once it is ready', [file])).status).toBe('completed');
    expect(gets() - before).toBeGreaterThanOrEqual(1);
    expect((await fileRow(file)).gemini_file_uri).toBeTruthy();
  });

  it('sends small files inline next to large ones, in the order they were attached', async () => {
    const small = Buffer.from('small one');
    const files = [await storeFile(bigText('large first')), await storeFile(small, 'text/markdown', 'small.md')];
    expect((await ask(await room(), 'Both', files)).status).toBe('completed');
    const large = await fileRow(files[0]!);
    expect(userTurns().at(-1)!.parts).toEqual([
      { fileData: { fileUri: large.gemini_file_uri, mimeType: 'text/plain' } },
      { inlineData: { mimeType: 'text/plain', data: small.toString('base64') } },
      { text: 'Both' },
    ]);
  });
});
