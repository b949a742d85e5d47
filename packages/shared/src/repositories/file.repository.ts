import { sql } from 'kysely';
import type { FileRow, Tier } from '../db/database.js';
import type { Db } from './db.js';

export interface NewFile {
  id: string;
  userId: string;
  name: string;
  mimeType: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
  pageCount: number | null;
}

/** A file as a message shows it, with the message and the position it is attached at. */
export interface AttachmentRow {
  message_id: string;
  position: number;
  id: string;
  name: string;
  mime_type: string;
  size_bytes: string;
  deleted_at: Date | null;
}

/** What a removed file gives back: its bytes to the user's storage, its object to delete. */
export interface RemovedFile {
  id: string;
  storage_key: string;
  size_bytes: string;
}

// Files and the storage they cost. Ownership is part of every lookup: another user's file is simply not found.
export function createFileRepository(db: Db) {
  return {
    /** Includes deleted files (a delete is idempotent; the caller decides what a deleted file means). */
    findOwned(userId: string, id: string): Promise<FileRow | undefined> {
      return db.selectFrom('file').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    },

    /** Newest first, deleted files left out; `after` is the last row of the previous page. */
    listOwned(userId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<FileRow[]> {
      let query = db.selectFrom('file').selectAll().where('user_id', '=', userId).where('deleted_at', 'is', null);
      if (after) {
        query = query.where((eb) =>
          eb.or([eb('created_at', '<', after.createdAt), eb.and([eb('created_at', '=', after.createdAt), eb('id', '<', after.id)])]),
        );
      }
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    /**
     * Charges `bytes` to the user's storage only if it stays within the quota of the user's tier, in one statement,
     * so parallel uploads can never together pass it. False when it would.
     */
    async chargeStorage(userId: string, bytes: number, quotaBytes: Record<Tier, number>): Promise<boolean> {
      const result = await db
        .updateTable('users')
        .set({ storage_used_bytes: sql`storage_used_bytes + ${bytes}::bigint` })
        .where('id', '=', userId)
        .where(
          sql<boolean>`storage_used_bytes + ${bytes}::bigint <= case when tier = 'pro' then ${quotaBytes.pro}::bigint else ${quotaBytes.basic}::bigint end`,
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /** Gives bytes back (never below zero, whatever happened before). */
    async releaseStorage(userId: string, bytes: number | string): Promise<void> {
      await db
        .updateTable('users')
        .set({ storage_used_bytes: sql`greatest(storage_used_bytes - ${String(bytes)}::bigint, 0)` })
        .where('id', '=', userId)
        .execute();
    },

    insert(file: NewFile): Promise<FileRow> {
      return db
        .insertInto('file')
        .values({
          id: file.id,
          user_id: file.userId,
          name: file.name,
          mime_type: file.mimeType,
          size_bytes: file.sizeBytes,
          sha256: file.sha256,
          storage_key: file.storageKey,
          page_count: file.pageCount,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /**
     * Marks the file deleted if it is not already: of two racing deletes exactly one gets the row back, so the
     * bytes are given back once. Undefined when it was already deleted or is not the user's.
     */
    softDeleteOwned(userId: string, id: string): Promise<RemovedFile | undefined> {
      return db
        .updateTable('file')
        .set({ deleted_at: new Date() })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('deleted_at', 'is', null)
        .returning(['id', 'storage_key', 'size_bytes'])
        .executeTakeFirst();
    },

    /**
     * The user's live files among `ids`, locked against a concurrent delete until the transaction ends (a delete
     * waits, then finds them attached and still removes them, but never while this send is deciding).
     */
    findLiveOwnedForShare(userId: string, ids: string[]): Promise<Array<Pick<FileRow, 'id' | 'mime_type'>>> {
      if (ids.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('file')
        .select(['id', 'mime_type'])
        .where('user_id', '=', userId)
        .where('id', 'in', ids)
        .where('deleted_at', 'is', null)
        .forShare()
        .execute();
    },

    async attach(messageId: string, fileIds: string[]): Promise<void> {
      if (fileIds.length === 0) return;
      await db
        .insertInto('message_attachment')
        .values(fileIds.map((fileId, position) => ({ message_id: messageId, position, file_id: fileId })))
        .execute();
    },

    /** The attachments of many messages in one query, in their order. */
    attachmentsOf(messageIds: string[]): Promise<AttachmentRow[]> {
      if (messageIds.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('message_attachment as a')
        .innerJoin('file as f', 'f.id', 'a.file_id')
        .select(['a.message_id', 'a.position', 'f.id', 'f.name', 'f.mime_type', 'f.size_bytes', 'f.deleted_at'])
        .where('a.message_id', 'in', messageIds)
        .orderBy('a.message_id')
        .orderBy('a.position')
        .execute();
    },

    /**
     * Soft-deletes the user's live files attached in the chatroom and in none of the user's other chatrooms (run
     * before the chatroom goes, in its transaction). Returns what was removed, for its bytes and objects.
     */
    softDeleteOnlyIn(userId: string, chatroomId: string): Promise<RemovedFile[]> {
      return db
        .updateTable('file')
        .set({ deleted_at: new Date() })
        .where('user_id', '=', userId)
        .where('deleted_at', 'is', null)
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('message_attachment as a')
            .innerJoin('message as m', 'm.id', 'a.message_id')
            .select('a.file_id')
            .where('m.chatroom_id', '=', chatroomId),
        )
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('message_attachment as a')
                .innerJoin('message as m', 'm.id', 'a.message_id')
                .select(sql`1`.as('one'))
                .whereRef('a.file_id', '=', 'file.id')
                .where('m.chatroom_id', '!=', chatroomId),
            ),
          ),
        )
        .returning(['id', 'storage_key', 'size_bytes'])
        .execute();
    },
  };
}
export type FileRepository = ReturnType<typeof createFileRepository>;
