import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
//
// No query's cost may grow with other users' data (the query-plan test checks every statement against a seeded
// database). This adds what that test found missing:
// - a per-user, per-day token counter, so GET /user/me reads one row instead of summing the day's replies;
// - an index behind every foreign key that cascades from a user (or a checkout session), so deleting an account
//   never scans the whole table of messages, files, sessions or checkout rows;
// - the user's files whatever their state (account export and deletion read deleted files too).
export async function up(db: Kysely<any>): Promise<void> {
  // Tokens of the replies charged to a user's quota day (the reply's `quota_day`), kept by the statement that
  // stores a reply's usage. Rows of past days stay small (one per user and day) and go with the user.
  await db.schema
    .createTable('user_token_usage')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('user_token_usage_pkey', ['user_id', 'day'])
    .execute();
  // What the counters would have held: the sum GET /user/me used to compute.
  await sql`
    insert into user_token_usage (user_id, day, input_tokens, output_tokens)
    select user_id, quota_day, coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0)
    from message where role = 'assistant' and quota_day is not null
    group by user_id, quota_day`.execute(db);

  // Cascades from users: `delete from message where user_id = $1` and the like.
  await db.schema.createIndex('message_user_id_idx').on('message').column('user_id').execute();
  await db.schema.createIndex('file_user_id_idx').on('file').column('user_id').execute();
  await db.schema.createIndex('session_user_id_idx').on('session').column('user_id').execute();
  await db.schema.createIndex('checkout_session_user_id_idx').on('checkout_session').column('user_id').execute();
  // Cascade from checkout_session (set null on the attempt that opened it).
  await db.schema.createIndex('checkout_attempt_checkout_session_idx').on('checkout_attempt').column('stripe_checkout_session_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const index of ['checkout_attempt_checkout_session_idx', 'checkout_session_user_id_idx', 'session_user_id_idx', 'file_user_id_idx', 'message_user_id_idx']) {
    await db.schema.dropIndex(index).ifExists().execute();
  }
  await db.schema.dropTable('user_token_usage').ifExists().execute();
}
