import type { Db } from './db.js';
import type { CheckoutSessionRow, CheckoutSessionStatus } from '../db/database.js';

export function createCheckoutSessionRepository(db: Db) {
  return {
    /** The user's newest session for this price that we last knew open and that is still open at `openUntil`. */
    findOpen(userId: string, priceId: string, openUntil: Date): Promise<CheckoutSessionRow | undefined> {
      return db
        .selectFrom('checkout_session')
        .selectAll()
        .where('user_id', '=', userId)
        .where('price_id', '=', priceId)
        .where('status', '=', 'open')
        .where('expires_at', '>', openUntil)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    async insert(session: { id: string; userId: string; priceId: string; url: string; expiresAt: Date }): Promise<void> {
      await db
        .insertInto('checkout_session')
        .values({
          stripe_checkout_session_id: session.id,
          user_id: session.userId,
          price_id: session.priceId,
          url: session.url,
          expires_at: session.expiresAt,
        })
        .onConflict((oc) => oc.column('stripe_checkout_session_id').doNothing())
        .execute();
    },

    async setStatus(id: string, status: CheckoutSessionStatus): Promise<void> {
      await db.updateTable('checkout_session').set({ status }).where('stripe_checkout_session_id', '=', id).execute();
    },
  };
}
export type CheckoutSessionRepository = ReturnType<typeof createCheckoutSessionRepository>;
