import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// Share links. A share is a frozen copy of a branch (title and the finished messages' role, text and time), taken
// once, so later sends, edits and branch switches never change what the link shows. It goes with its chatroom and
// its user (cascade), and revoking it deletes the row: a lookup by id is then simply not found.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('share')
    // gen_random_uuid() is a version 4 UUID: 122 random bits, so ids cannot be guessed or enumerated.
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('chatroom_id', 'uuid', (c) => c.notNull().references('chatroom.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    // [{ role, content, createdAt }], root first.
    .addColumn('messages', 'jsonb', (c) => c.notNull())
    .addColumn('message_count', 'integer', (c) => c.notNull())
    // Whole milliseconds, as the list's cursor carries it: a cursor of a truncated time would skip rows.
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`date_trunc('milliseconds', now())`))
    .execute();
  // GET /shares: a user's shares, newest first.
  await db.schema.createIndex('share_user_created_idx').on('share').columns(['user_id', 'created_at desc', 'id desc']).execute();
  // Deleting a chatroom finds its shares to cascade to.
  await db.schema.createIndex('share_chatroom_idx').on('share').column('chatroom_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('share').ifExists().execute();
}
