import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { createStorage, fileStorageKey, type ObjectStorage } from '@gemini-chat/shared';
import { signIn, startStack, waitFor, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../../src/worker.js';

export interface WirePart {
  text?: string;
  inlineData?: { mimeType: string; data: string };
  fileData?: { fileUri: string; mimeType: string };
}

export interface AttachmentStack {
  s: Stack;
  storage: ObjectStorage;
  user: SignedIn;
  /** The stack's files directory (filesystem driver). */
  dir: string;
  /** The body of every reply call Gemini received, oldest first. */
  replyBodies(): Array<{ contents: Array<{ role: string; parts: WirePart[] }> }>;
  room(): Promise<string>;
  /** Stores `bytes` as a file of the user: the object first, then its row, as an upload does. */
  storeFile(bytes: Buffer, mimeType?: string, name?: string): Promise<string>;
  /** Sends a prompt with these files attached and waits for its reply to end. */
  ask(chatroomId: string, content: string, fileIds?: string[]): Promise<{ id: string; status: string; content: string; errorCode?: string }>;
  close(): Promise<void>;
}

/**
 * The product with a stopped worker. Attachments are arranged directly (object in storage, `file` row,
 * `message_attachment` rows on the prompt) so a test can give files any state before the reply's job sees them:
 * each `ask` stops the worker, sends, attaches, then starts it again.
 */
export async function startAttachmentStack(env: Record<string, string>): Promise<AttachmentStack> {
  const s = await startStack({ QUOTA_BASIC_DAILY: '0', ...env }, { startWorker, worker: false });
  const storage = createStorage(s.config.files.storage);
  const user = await signIn(s.app);
  const dir = s.config.files.storage.driver === 'filesystem' ? s.config.files.storage.dir : '';
  return {
    s,
    storage,
    user,
    dir,
    replyBodies: () => s.gemini.requests.filter((r) => r.action === 'streamGenerateContent').map((r) => r.body as ReturnType<AttachmentStack['replyBodies']>[number]),
    async room() {
      return (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id;
    },
    async storeFile(bytes, mimeType = 'text/plain', name = 'notes.txt') {
      const id = randomUUID();
      const key = fileStorageKey(user.userId, id);
      await storage.put(key, Readable.from([bytes]), mimeType);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      await s.db.insertInto('file').values({ id, user_id: user.userId, name, mime_type: mimeType, size_bytes: bytes.length, sha256, storage_key: key }).execute();
      return id;
    },
    async ask(chatroomId, content, fileIds = []) {
      await s.worker?.close();
      s.worker = undefined;
      const sent = await s.app.inject({ method: 'POST', url: `/chatroom/${chatroomId}/message`, payload: { content }, headers: user.auth });
      expect(sent.statusCode).toBe(202);
      const { userMessage, reply } = sent.json() as { userMessage: { id: string }; reply: { id: string } };
      if (fileIds.length) {
        await s.db
          .insertInto('message_attachment')
          .values(fileIds.map((fileId, position) => ({ message_id: userMessage.id, position, file_id: fileId })))
          .execute();
      }
      await s.startWorker();
      return waitFor(async () => {
        const row = (await s.app.inject({ url: `/chatroom/${chatroomId}/messages/${reply.id}`, headers: user.auth })).json();
        return ['completed', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
      }, 20_000);
    },
    async close() {
      await storage.close();
      await s.close();
    },
  };
}
