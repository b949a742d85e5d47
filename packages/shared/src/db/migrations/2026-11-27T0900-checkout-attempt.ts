import { sql, type Kysely } from 'kysely';

// Frozen history: never edit after it has shipped; add a new migration instead.
export async function up(db: Kysely<any>): Promise<void> {
  // A user's current Checkout attempt for a price. POST /subscribe/pro calls Stripe outside any transaction, so
  // concurrent calls agree through this row instead of a lock: they read the same attempt_id, send Stripe the
  // same idempotency key, and get the same Checkout Session back. A new attempt_id is drawn only once the
  // attempt's session can no longer be handed out (expired, paid, about to expire).
  await db.schema
    .createTable('checkout_attempt')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('price_id', 'text', (c) => c.notNull())
    .addColumn('attempt_id', 'uuid', (c) => c.notNull().defaultTo(sql`gen_random_uuid()`))
    // The session created under attempt_id, once recorded.
    .addColumn('stripe_checkout_session_id', 'text', (c) =>
      c.references('checkout_session.stripe_checkout_session_id').onDelete('set null'),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('checkout_attempt_pkey', ['user_id', 'price_id'])
    .execute();

  // Sessions opened before this table existed stay reusable: each user's newest open one becomes the attempt's.
  await sql`
    insert into checkout_attempt (user_id, price_id, stripe_checkout_session_id)
    select distinct on (user_id, price_id) user_id, price_id, stripe_checkout_session_id
    from checkout_session
    where status = 'open'
    order by user_id, price_id, created_at desc
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('checkout_attempt').ifExists().execute();
}
