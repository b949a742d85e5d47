import { CHATROOM_COLUMNS, messageColumnsAs } from './columns.js';
import type { Db } from './db.js';
import type { ChatroomRow, MessageRow } from '../db/database.js';
import type { AttachmentRow } from './file.repository.js';

/** A file attached to a prompt, as an export names it: metadata and checksum, never the bytes. */
export type ExportedAttachmentRow = AttachmentRow & { sha256: string };

/** What chatroom exports are made of. */
export interface ChatroomExportRows {
  /** Oldest first. */
  chatrooms: ChatroomRow[];
  /** Every message of every branch, by chatroom, in the order they were made (parents before children). */
  messages: MessageRow[];
  /** By message, in each message's order. */
  attachments: ExportedAttachmentRow[];
}

/**
 * The one way chatrooms are read for an export (a single chatroom's, and an account's): three queries whatever the
 * number of chatrooms and messages, read from one snapshot so the messages, their attachments and each chatroom's
 * current message agree even while the user keeps chatting.
 */
export function createChatroomExportRepository(db: Db) {
  async function read(tx: Db, userId: string, chatroomId: string | undefined): Promise<ChatroomExportRows> {
    // Ownership is in every query: another user's chatroom reads as none at all.
    let chatrooms = tx.selectFrom('chatroom').select(CHATROOM_COLUMNS).where('user_id', '=', userId);
    let messages = tx.selectFrom('message as m').innerJoin('chatroom as c', 'c.id', 'm.chatroom_id').select(messageColumnsAs('m')).where('c.user_id', '=', userId);
    let attachments = tx
      .selectFrom('message_attachment as a')
      .innerJoin('message as m', 'm.id', 'a.message_id')
      .innerJoin('chatroom as c', 'c.id', 'm.chatroom_id')
      .innerJoin('file as f', 'f.id', 'a.file_id')
      .select(['a.message_id', 'a.position', 'f.id', 'f.name', 'f.mime_type', 'f.size_bytes', 'f.sha256', 'f.deleted_at'])
      .where('c.user_id', '=', userId);
    if (chatroomId !== undefined) {
      chatrooms = chatrooms.where('id', '=', chatroomId);
      messages = messages.where('c.id', '=', chatroomId);
      attachments = attachments.where('c.id', '=', chatroomId);
    }
    return {
      chatrooms: await chatrooms.orderBy('created_at').orderBy('id').execute(),
      messages: await messages.orderBy('m.chatroom_id').orderBy('m.seq').execute(),
      attachments: await attachments.orderBy('a.message_id').orderBy('a.position').execute(),
    };
  }

  /** Inside a caller's transaction its snapshot is used; on the pool a read-only repeatable-read one is opened. */
  const snapshot = (userId: string, chatroomId?: string) =>
    db.isTransaction
      ? read(db, userId, chatroomId)
      : db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((tx) => read(tx, userId, chatroomId));

  return {
    /** One chatroom of the user's (none when it is missing or someone else's). */
    chatroom(userId: string, chatroomId: string): Promise<ChatroomExportRows> {
      return snapshot(userId, chatroomId);
    },

    /** Every chatroom of the user. */
    allOf(userId: string): Promise<ChatroomExportRows> {
      return snapshot(userId);
    },
  };
}
export type ChatroomExportRepository = ReturnType<typeof createChatroomExportRepository>;
