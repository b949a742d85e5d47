import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('message')
    // Set with refunded_at when a failed reply's unit is owed back, cleared once the Redis counter has it back:
    // a refund Redis refused is retried from here, and a counter rebuilt meanwhile still counts the unit.
    .addColumn('quota_refund_pending', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  // Rebuilding a lost quota counter: a user's charged replies of one day (and their token usage that day).
  await db.schema
    .createIndex('message_user_quota_day_idx')
    .on('message')
    .columns(['user_id', 'quota_day'])
    .where(sql.ref('quota_day'), 'is not', null)
    .execute();
  // The sweeper's lookup: refunds that have not reached Redis yet.
  await db.schema
    .createIndex('message_quota_refund_pending_idx')
    .on('message')
    .column('updated_at')
    .where(sql.ref('quota_refund_pending'), '=', true)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('message_quota_refund_pending_idx').ifExists().execute();
  await db.schema.dropIndex('message_user_quota_day_idx').ifExists().execute();
  await db.schema.alterTable('message').dropColumn('quota_refund_pending').execute();
}
