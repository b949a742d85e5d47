import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    // One Stripe customer per user, created on the first POST /subscribe/pro.
    .addColumn('stripe_customer_id', 'text', (c) => c.unique())
    // Set while pro is time-limited (a scheduled cancellation, the past_due grace period): at this moment the
    // tier falls back to basic even if no webhook arrives (the API's billing sweep applies it).
    .addColumn('tier_expires_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('users_tier_expires_at_idx')
    .on('users')
    .column('tier_expires_at')
    .where(sql.ref('tier_expires_at'), 'is not', null)
    .execute();

  // Tickets taken before each Stripe retrieve: a row only accepts a snapshot with a higher ticket, so a slow,
  // older retrieve can never overwrite a newer one (see subscription.sync_version).
  await sql`create sequence billing_sync_seq`.execute(db);

  // Stripe's current view of each subscription (re-fetched on every related event), never built from event bodies.
  await db.schema
    .createTable('subscription')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('stripe_subscription_id', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('stripe_customer_id', 'text', (c) => c.notNull())
    // Stripe's status as is (active, trialing, past_due, canceled, unpaid, incomplete, ...): no check
    // constraint, so a status Stripe adds later is stored rather than failing the webhook for ever.
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('price_id', 'text')
    .addColumn('current_period_start', 'timestamptz')
    .addColumn('current_period_end', 'timestamptz')
    .addColumn('cancel_at_period_end', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('cancel_at', 'timestamptz')
    .addColumn('canceled_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    // When we first saw it past_due; the grace period counts from here. Null in any other status.
    .addColumn('past_due_since', 'timestamptz')
    .addColumn('sync_version', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('subscription_user_id_idx').on('subscription').column('user_id').execute();

  // Checkout Sessions we created, so a second POST /subscribe/pro reuses an open one instead of making another.
  await db.schema
    .createTable('checkout_session')
    .addColumn('stripe_checkout_session_id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('price_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'complete', 'expired')`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('checkout_session_user_open_idx')
    .on('checkout_session')
    .columns(['user_id', 'expires_at'])
    .where(sql.ref('status'), '=', 'open')
    .execute();

  // Every Stripe event handled, recorded in the same transaction as its effect: a redelivery finds it and does nothing.
  await db.schema
    .createTable('stripe_event')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('created', 'timestamptz', (c) => c.notNull())
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['stripe_event', 'checkout_session', 'subscription']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await sql`drop sequence if exists billing_sync_seq`.execute(db);
  await db.schema.dropIndex('users_tier_expires_at_idx').ifExists().execute();
  await db.schema.alterTable('users').dropColumn('stripe_customer_id').dropColumn('tier_expires_at').execute();
}
