import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('message')
    // Fencing token of the worker run that owns a reply; every worker write names it, so a run that lost its
    // job (stalled, then picked up elsewhere) can no longer touch the message.
    .addColumn('worker_token', 'uuid')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // The UTC day whose quota unit this reply consumed, and when that unit was given back (at most once).
    .addColumn('quota_day', 'date')
    .addColumn('refunded_at', 'timestamptz')
    .execute();
  // The sweeper's lookup: replies still pending after a while.
  await db.schema
    .createIndex('message_pending_idx')
    .on('message')
    .columns(['status', 'updated_at'])
    .where(sql<boolean>`status in ('queued', 'generating')`)
    .execute();

  // Idempotency-Key replays for POST /chatroom/:id/message (kept 24 hours).
  await db.schema
    .createTable('idempotency_key')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('response_status', 'integer', (c) => c.notNull())
    .addColumn('response_body', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_key_pkey', ['user_id', 'key'])
    .execute();
  await db.schema.createIndex('idempotency_key_created_at_idx').on('idempotency_key').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_key').ifExists().execute();
  await db.schema.dropIndex('message_pending_idx').ifExists().execute();
  await db.schema
    .alterTable('message')
    .dropColumn('worker_token')
    .dropColumn('attempts')
    .dropColumn('quota_day')
    .dropColumn('refunded_at')
    .execute();
}
