import { sql } from 'kysely';
import type { Db } from './db.js';
import type { ShareRow } from '../db/database.js';

/** A share without its messages: what the owner's list shows. */
export type ShareSummary = Omit<ShareRow, 'messages'>;

const SUMMARY_COLUMNS = ['id', 'user_id', 'chatroom_id', 'title', 'message_count', 'created_at'] as const;

export function createShareRepository(db: Db) {
  return {
    /**
     * Copies the current branch of the caller's chatroom into a new share, in one statement (one snapshot of the
     * database, so a send or branch switch at the same moment is either wholly in the copy or not at all): the
     * title and the finished messages of the path from the root to the current message, root first. Undefined
     * when the chatroom is not the caller's or its branch has no finished message.
     */
    async insertSnapshot(userId: string, chatroomId: string): Promise<ShareSummary | undefined> {
      const { rows } = await sql<ShareSummary>`
        with recursive room as (
          select id, title, current_message_id from chatroom where id = ${chatroomId}::uuid and user_id = ${userId}::uuid
        ), branch as (
          select m.id, m.parent_id, m.chatroom_id, m.role, m.status, m.content, m.created_at, 1 as depth
          from room r join message m on m.id = r.current_message_id and m.chatroom_id = r.id
          union all
          select m.id, m.parent_id, m.chatroom_id, m.role, m.status, m.content, m.created_at, b.depth + 1
          from branch b join message m on m.id = b.parent_id and m.chatroom_id = b.chatroom_id
        ), copied as (
          select
            coalesce(
              jsonb_agg(
                jsonb_build_object(
                  'role', role,
                  'content', content,
                  'createdAt', to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                )
                order by depth desc
              ),
              '[]'::jsonb
            ) as messages,
            count(*)::int as message_count
          from branch where status = 'completed'
        )
        insert into share (user_id, chatroom_id, title, messages, message_count)
        select ${userId}::uuid, r.id, r.title, c.messages, c.message_count
        from room r cross join copied c
        where c.message_count > 0
        returning ${sql.join(SUMMARY_COLUMNS.map((c) => sql.ref(c)))}`.execute(db);
      return rows[0];
    },

    /** The share as anyone with its id reads it. */
    findPublic(id: string): Promise<Pick<ShareRow, 'title' | 'messages' | 'created_at'> | undefined> {
      return db
        .selectFrom('share')
        .innerJoin('users', 'users.id', 'share.user_id')
        .select(['share.title', 'share.messages', 'share.created_at'])
        .where('share.id', '=', id)
        // An account being deleted shares nothing from the moment it is marked, before its rows are removed.
        .where('users.deleted_at', 'is', null)
        .executeTakeFirst();
    },

    /** The caller's shares, newest first, keyset-paginated on (created_at, id). */
    listOwned(userId: string, limit: number, after?: { createdAt: Date; id: string }): Promise<ShareSummary[]> {
      let query = db.selectFrom('share').select(SUMMARY_COLUMNS).where('user_id', '=', userId);
      if (after) {
        query = query.where(sql<boolean>`(created_at, id) < (${after.createdAt}, ${after.id}::uuid)`);
      }
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    },

    /** Revokes: the row goes, so every later lookup by id is not found. False when it is not the caller's. */
    async deleteOwned(userId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('share').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
export type ShareRepository = ReturnType<typeof createShareRepository>;
