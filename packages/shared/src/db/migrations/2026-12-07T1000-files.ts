import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// Attachments. A file row exists only for bytes that are completely stored (the upload writes the object first,
// then the row in the same transaction that charges the user's storage), so an aborted upload leaves no row; an
// object left without a row by a crash is removed by the worker's sweep. Deleting a file keeps its row (messages
// keep showing it, marked deleted) but removes its bytes and gives its storage back.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    // Bytes of the user's stored (not deleted) files; charged and given back atomically with the file rows.
    .addColumn('storage_used_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('file')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Sanitised for display and Content-Disposition; never part of a path or a storage key.
    .addColumn('name', 'text', (c) => c.notNull())
    // Detected from the bytes, never taken from the client.
    .addColumn('mime_type', 'text', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('storage_key', 'text', (c) => c.notNull().unique())
    .addColumn('page_count', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    // The file's copy in Gemini's Files API (kept 48 hours there): reused until it expires.
    .addColumn('gemini_file_name', 'text')
    .addColumn('gemini_file_uri', 'text')
    .addColumn('gemini_file_expires_at', 'timestamptz')
    // Prompt tokens the file costs, as Gemini counted it (for the context budget of later turns).
    .addColumn('token_count', 'integer')
    .execute();
  // GET /files: a user's files, newest first.
  await db.schema
    .createIndex('file_user_created_idx')
    .on('file')
    .columns(['user_id', 'created_at desc', 'id desc'])
    .where(sql<boolean>`deleted_at is null`)
    .execute();

  await db.schema
    .createTable('message_attachment')
    .addColumn('message_id', 'uuid', (c) => c.notNull().references('message.id').onDelete('cascade'))
    .addColumn('position', 'smallint', (c) => c.notNull())
    .addColumn('file_id', 'uuid', (c) => c.notNull().references('file.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('message_attachment_pkey', ['message_id', 'position'])
    .execute();
  // Which messages use a file (clean-up when a chatroom goes, the cascade when a file row goes).
  await db.schema.createIndex('message_attachment_file_idx').on('message_attachment').column('file_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('message_attachment').ifExists().execute();
  await db.schema.dropTable('file').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('storage_used_bytes').execute();
}
