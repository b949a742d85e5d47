import { sql } from 'kysely';
import { CHATROOM_COLUMNS } from './columns.js';
import type { Db } from './db.js';
import type { ChatroomRow, ReplySettings, TitleSource } from '../db/database.js';

export interface ChatroomCursor {
  lastActivityAt: Date;
  id: string;
}

export function createChatroomRepository(db: Db) {
  return {
    // Ownership is part of every lookup, so another user's row is simply "not found".
    findOwned(userId: string, id: string): Promise<ChatroomRow | undefined> {
      return db.selectFrom('chatroom').select(CHATROOM_COLUMNS).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    },

    /** Newest activity first, keyset-paginated on (last_activity_at, id). */
    findById(id: string): Promise<ChatroomRow | undefined> {
      return db.selectFrom('chatroom').select(CHATROOM_COLUMNS).where('id', '=', id).executeTakeFirst();
    },

    /** Locks the caller's chatroom row for the transaction: sends to one chatroom run one at a time. */
    findOwnedForUpdate(userId: string, id: string): Promise<ChatroomRow | undefined> {
      return db.selectFrom('chatroom').select(CHATROOM_COLUMNS).where('id', '=', id).where('user_id', '=', userId).forUpdate().executeTakeFirst();
    },

    listOwned(userId: string, limit: number, after?: ChatroomCursor): Promise<ChatroomRow[]> {
      let query = db.selectFrom('chatroom').select(CHATROOM_COLUMNS).where('user_id', '=', userId);
      if (after) {
        query = query.where(sql<boolean>`(last_activity_at, id) < (${after.lastActivityAt}, ${after.id}::uuid)`);
      }
      return query.orderBy('last_activity_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    /** A new exchange: it becomes the current message, and the chatroom's activity is now (one statement). */
    async recordExchange(id: string, currentMessageId: string): Promise<void> {
      const now = new Date();
      await db.updateTable('chatroom').set({ current_message_id: currentMessageId, last_activity_at: now, updated_at: now }).where('id', '=', id).execute();
    },

    /** Makes `messageId` the leaf the user looks at (a fork's last copy, an import's current message). */
    async setCurrentMessage(id: string, messageId: string): Promise<void> {
      await db.updateTable('chatroom').set({ current_message_id: messageId }).where('id', '=', id).execute();
    },

    /** A new chatroom; an import also gives its original creation time and the time of its last message. */
    insert(
      userId: string,
      input: {
        title: string;
        titleSource: TitleSource;
        systemPrompt: string | null;
        model?: string | null;
        settings?: ReplySettings;
        createdAt?: Date;
        lastActivityAt?: Date;
      },
    ): Promise<ChatroomRow> {
      return db
        .insertInto('chatroom')
        .values({
          user_id: userId,
          title: input.title,
          title_source: input.titleSource,
          system_prompt: input.systemPrompt,
          model: input.model ?? null,
          settings: JSON.stringify(input.settings ?? {}),
          // Left out (undefined), the columns take their default: now.
          created_at: input.createdAt,
          last_activity_at: input.lastActivityAt,
        })
        .returning(CHATROOM_COLUMNS)
        .executeTakeFirstOrThrow();
    },

    updateOwned(
      userId: string,
      id: string,
      patch: {
        title?: string;
        titleSource?: TitleSource;
        systemPrompt?: string | null;
        currentMessageId?: string;
        model?: string | null;
        settings?: ReplySettings;
      },
    ): Promise<ChatroomRow | undefined> {
      return db
        .updateTable('chatroom')
        .set({
          ...(patch.title !== undefined ? { title: patch.title } : {}),
          ...(patch.titleSource !== undefined ? { title_source: patch.titleSource } : {}),
          ...(patch.systemPrompt !== undefined ? { system_prompt: patch.systemPrompt } : {}),
          ...(patch.currentMessageId !== undefined ? { current_message_id: patch.currentMessageId } : {}),
          ...(patch.model !== undefined ? { model: patch.model } : {}),
          ...(patch.settings !== undefined ? { settings: JSON.stringify(patch.settings) } : {}),
          updated_at: new Date(),
        })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .returning(CHATROOM_COLUMNS)
        .executeTakeFirst();
    },

    /** Sets an automatic title only while the chatroom still has its default one (never over a user's title). */
    setAutoTitle(id: string, title: string): Promise<ChatroomRow | undefined> {
      return db
        .updateTable('chatroom')
        .set({ title, title_source: 'auto', updated_at: new Date() })
        .where('id', '=', id)
        .where('title_source', '=', 'default')
        .returning(CHATROOM_COLUMNS)
        .executeTakeFirst();
    },

    async deleteOwned(userId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('chatroom').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
export type ChatroomRepository = ReturnType<typeof createChatroomRepository>;
