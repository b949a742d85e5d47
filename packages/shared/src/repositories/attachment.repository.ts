import { sql } from 'kysely';
import type { Db } from './db.js';
import type { FileRow } from '../db/database.js';

/** A file attached to a prompt, with its place among that prompt's attachments. */
export type MessageAttachment = FileRow & { message_id: string; position: number };

/** A file's copy in Gemini's Files API. */
export interface GeminiFileCopy {
  name: string;
  uri: string;
  expiresAt: Date;
}

/**
 * What the worker reads and writes about attachments: the files of the prompts it sends, their Gemini copies and
 * token counts, and the sweep that keeps stored objects and file rows in step.
 */
export function createAttachmentRepository(db: Db) {
  return {
    /** The files attached to these messages, in each message's order (deleted files included: they are shown as such). */
    forMessages(messageIds: readonly string[]): Promise<MessageAttachment[]> {
      if (messageIds.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('message_attachment as a')
        .innerJoin('file as f', 'f.id', 'a.file_id')
        .selectAll('f')
        .select(['a.message_id', 'a.position'])
        .where('a.message_id', 'in', messageIds)
        .orderBy('a.message_id')
        .orderBy('a.position')
        .execute();
    },

    async saveGeminiCopy(fileId: string, copy: GeminiFileCopy): Promise<void> {
      await db
        .updateTable('file')
        .set({ gemini_file_name: copy.name, gemini_file_uri: copy.uri, gemini_file_expires_at: copy.expiresAt })
        .where('id', '=', fileId)
        .execute();
    },

    /**
     * Forgets a Gemini copy that Gemini no longer has. Only the copy named: one saved meanwhile by another reply
     * (which uploaded it again) is kept.
     */
    async forgetGeminiCopy(fileId: string, uri: string): Promise<void> {
      await db
        .updateTable('file')
        .set({ gemini_file_name: null, gemini_file_uri: null, gemini_file_expires_at: null })
        .where('id', '=', fileId)
        .where('gemini_file_uri', '=', uri)
        .execute();
    },

    async saveTokenCount(fileId: string, tokens: number): Promise<void> {
      await db.updateTable('file').set({ token_count: tokens }).where('id', '=', fileId).execute();
    },

    /** Of these storage keys, those that belong to a file that is not deleted. */
    async liveKeysAmong(keys: readonly string[]): Promise<Set<string>> {
      if (keys.length === 0) return new Set();
      const rows = await db.selectFrom('file').select('storage_key').where('storage_key', 'in', keys).where('deleted_at', 'is', null).execute();
      return new Set(rows.map((row) => row.storage_key));
    },

    /** Files not deleted and created before `createdBefore`, by id after `afterId` (for paging through them all). */
    liveFilesPage(createdBefore: Date, afterId: string | null, limit: number): Promise<Array<Pick<FileRow, 'id' | 'storage_key'>>> {
      let query = db
        .selectFrom('file')
        .select(['id', 'storage_key'])
        .where('deleted_at', 'is', null)
        .where('created_at', '<', createdBefore);
      if (afterId) query = query.where('id', '>', afterId);
      return query.orderBy('id').limit(limit).execute();
    },

    /**
     * Marks a file whose bytes are gone as deleted and gives its size back to its owner, in one statement. Only a
     * file not deleted yet is changed, so the size is given back once however many sweeps (or deletes) race.
     * True when this call marked it.
     */
    async markMissing(fileId: string): Promise<boolean> {
      const { rows } = await sql<{ id: string }>`
        with gone as (
          update file set deleted_at = now() where id = ${fileId}::uuid and deleted_at is null
          returning user_id, size_bytes
        )
        update users u set storage_used_bytes = greatest(0, u.storage_used_bytes - gone.size_bytes)
        from gone where u.id = gone.user_id
        returning u.id`.execute(db);
      return rows.length > 0;
    },
  };
}
export type AttachmentRepository = ReturnType<typeof createAttachmentRepository>;
