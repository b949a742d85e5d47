import { sql, type RawBuilder } from 'kysely';
import type { ChatroomTable, MessageTable } from '../db/database.js';

// The columns a message or chatroom row is read with. Never `*`: both tables carry a generated tsvector
// (search_tsv), often larger than the text it indexes, that only the search index needs.
export const MESSAGE_COLUMNS = [
  'id', 'seq', 'chatroom_id', 'user_id', 'role', 'status', 'content', 'reply_to_id', 'parent_id', 'error_code',
  'error_message', 'input_tokens', 'output_tokens', 'model', 'created_at', 'updated_at', 'completed_at', 'worker_token',
  'attempts', 'quota_day', 'refunded_at', 'quota_refund_pending', 'settings', 'thoughts', 'citations', 'thinking_tokens',
] as const satisfies ReadonlyArray<keyof MessageTable>;

export const CHATROOM_COLUMNS = [
  'id', 'user_id', 'title', 'title_source', 'system_prompt', 'created_at', 'updated_at', 'last_activity_at',
  'current_message_id', 'model', 'settings',
] as const satisfies ReadonlyArray<keyof ChatroomTable>;

/** The message columns of `alias`, for raw SQL (`m.id, m.seq, …`). */
export function messageColumnsOf(alias: string): RawBuilder<unknown> {
  return sql.join(MESSAGE_COLUMNS.map((column) => sql.ref(`${alias}.${column}`)));
}

/** `MESSAGE_COLUMNS` qualified by a table alias, for Kysely's select(). */
export const messageColumnsAs = <A extends string>(alias: A) => MESSAGE_COLUMNS.map((column) => `${alias}.${column}` as const);
