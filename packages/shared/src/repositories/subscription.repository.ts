import { sql } from 'kysely';
import type { Db } from './db.js';
import type { SubscriptionRow, SubscriptionTable } from '../db/database.js';
import type { Insertable } from 'kysely';

export type SubscriptionSnapshot = Omit<Insertable<SubscriptionTable>, 'id' | 'created_at' | 'updated_at'>;

export function createSubscriptionRepository(db: Db) {
  return {
    /**
     * A ticket from a database sequence, taken just before retrieving a subscription from Stripe. Tickets grow in
     * the order they are taken, across every API instance, with no clock involved.
     */
    async nextSyncVersion(): Promise<string> {
      const row = await sql<{ v: string }>`select nextval('billing_sync_seq')::text as v`.execute(db);
      const version = row.rows[0]?.v;
      if (!version) throw new Error('billing_sync_seq returned nothing');
      return version;
    },

    findByStripeIdForUpdate(stripeSubscriptionId: string): Promise<SubscriptionRow | undefined> {
      return db
        .selectFrom('subscription')
        .selectAll()
        .where('stripe_subscription_id', '=', stripeSubscriptionId)
        .forUpdate()
        .executeTakeFirst();
    },

    listForUser(userId: string): Promise<SubscriptionRow[]> {
      return db.selectFrom('subscription').selectAll().where('user_id', '=', userId).orderBy('updated_at', 'desc').execute();
    },

    /**
     * Stores a snapshot unless the row already holds one from a later ticket (an older retrieve never
     * overwrites a newer one). True when written.
     */
    async upsert(snapshot: SubscriptionSnapshot): Promise<boolean> {
      const { stripe_subscription_id: _id, ...changes } = snapshot;
      const row = await db
        .insertInto('subscription')
        .values(snapshot)
        .onConflict((oc) =>
          oc
            .column('stripe_subscription_id')
            .doUpdateSet({ ...changes, updated_at: new Date() })
            .where('subscription.sync_version', '<', (eb) => eb.ref('excluded.sync_version')),
        )
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
export type SubscriptionRepository = ReturnType<typeof createSubscriptionRepository>;
