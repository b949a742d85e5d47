import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('mobile_number', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('email', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('tier', 'text', (c) => c.notNull().defaultTo('basic').check(sql`tier in ('basic', 'pro')`))
    .addColumn('mobile_verified_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // One row per number and purpose: the live code. A resend replaces it, so an older code dies at once.
  await db.schema
    .createTable('otp_challenge')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('mobile_number', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('login', 'signup', 'password_reset')`))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('otp_challenge_number_purpose_key', ['mobile_number', 'purpose'])
    .execute();

  // Send log for the hourly cap per number (all purposes together).
  await db.schema
    .createTable('otp_send')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('mobile_number', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('otp_send_number_sent_at_idx').on('otp_send').columns(['mobile_number', 'sent_at']).execute();

  // A session is one sign-in; its refresh tokens rotate inside it (a "family").
  await db.schema
    .createTable('session')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_refreshed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoke_reason', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('session_user_id_active_idx').on('session').column('user_id').where(sql.ref('revoked_at'), 'is', null).execute();

  await db.schema
    .createTable('refresh_token')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('session_id', 'uuid', (c) => c.notNull().references('session.id').onDelete('cascade'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('refresh_token_session_id_idx').on('refresh_token').column('session_id').execute();

  await db.schema
    .createTable('chatroom')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('title_source', 'text', (c) => c.notNull().defaultTo('default').check(sql`title_source in ('default', 'user', 'auto')`))
    .addColumn('system_prompt', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The list query: a user's rooms, newest activity first, keyset-paginated on (last_activity_at, id).
  await db.schema
    .createIndex('chatroom_user_activity_idx')
    .on('chatroom')
    .expression(sql`user_id, last_activity_at desc, id desc`)
    .execute();

  await db.schema
    .createTable('message')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('seq', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
    .addColumn('chatroom_id', 'uuid', (c) => c.notNull().references('chatroom.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('user', 'assistant')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('queued', 'generating', 'completed', 'failed', 'cancelled')`),
    )
    .addColumn('content', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('reply_to_id', 'uuid', (c) => c.references('message.id').onDelete('cascade'))
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('input_tokens', 'integer')
    .addColumn('output_tokens', 'integer')
    .addColumn('model', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('message_chatroom_seq_idx').on('message').expression(sql`chatroom_id, seq desc`).execute();
  await db.schema.createIndex('message_reply_to_idx').on('message').column('reply_to_id').execute();
  // At most one pending reply per chatroom: the database itself enforces CHATROOM_BUSY under concurrency.
  await db.schema
    .createIndex('message_one_pending_reply_idx')
    .on('message')
    .column('chatroom_id')
    .unique()
    .where(sql<boolean>`role = 'assistant' and status in ('queued', 'generating')`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['message', 'chatroom', 'refresh_token', 'session', 'otp_send', 'otp_challenge', 'users']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
