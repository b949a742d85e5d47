import type { Db } from './db.js';
import type { Tier, UserRow } from '../db/database.js';

/** The billing side of a user: the columns of `users` that billing reads and writes. */
export type BillingAccountRow = Pick<UserRow, 'id' | 'mobile_number' | 'tier' | 'tier_expires_at' | 'stripe_customer_id'>;

const COLUMNS = ['id', 'mobile_number', 'tier', 'tier_expires_at', 'stripe_customer_id'] as const;

export function createBillingAccountRepository(db: Db) {
  return {
    find(userId: string): Promise<BillingAccountRow | undefined> {
      return db.selectFrom('users').select(COLUMNS).where('id', '=', userId).executeTakeFirst();
    },

    /** Locks the user's row for the rest of the transaction: every billing change to one user runs one at a time. */
    findForUpdate(userId: string): Promise<BillingAccountRow | undefined> {
      return db.selectFrom('users').select(COLUMNS).where('id', '=', userId).forUpdate().executeTakeFirst();
    },

    findByStripeCustomerId(customerId: string): Promise<BillingAccountRow | undefined> {
      return db.selectFrom('users').select(COLUMNS).where('stripe_customer_id', '=', customerId).executeTakeFirst();
    },

    /** Links a Stripe customer to a user that has none; false when the user already has one or another user owns it. */
    async linkStripeCustomer(userId: string, customerId: string): Promise<boolean> {
      const result = await db
        .updateTable('users')
        .set({ stripe_customer_id: customerId, updated_at: new Date() })
        .where('id', '=', userId)
        .where('stripe_customer_id', 'is', null)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('users as other').select('other.id').where('other.stripe_customer_id', '=', customerId))))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async setTier(userId: string, tier: Tier, expiresAt: Date | null): Promise<void> {
      await db.updateTable('users').set({ tier, tier_expires_at: expiresAt, updated_at: new Date() }).where('id', '=', userId).execute();
    },

    /** Users still marked pro whose time-limited pro has run out (the billing sweep re-evaluates them). */
    async listTierExpired(now: Date, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('users')
        .select('id')
        .where('tier_expires_at', '<=', now)
        .orderBy('tier_expires_at')
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    },
  };
}
export type BillingAccountRepository = ReturnType<typeof createBillingAccountRepository>;
