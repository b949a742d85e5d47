import type { Db } from './db.js';
import type { MessageRow } from '../db/database.js';

export function createMessageRepository(db: Db) {
  return {
    /** A chatroom's messages, newest first, keyset-paginated on the internal insertion sequence. */
    listForChatroom(chatroomId: string, limit: number, beforeSeq?: string): Promise<MessageRow[]> {
      let query = db.selectFrom('message').selectAll().where('chatroom_id', '=', chatroomId);
      if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq as never);
      return query.orderBy('seq', 'desc').limit(limit).execute();
    },
  };
}
export type MessageRepository = ReturnType<typeof createMessageRepository>;
