import { sql } from 'kysely';
import type { Db } from './db.js';
import type { CheckoutSessionRow, CheckoutSessionStatus } from '../db/database.js';

/** A user's current Checkout attempt for one price (see the checkout_attempt table). */
export interface CheckoutAttempt {
  attemptId: string;
  /** The session created under this attempt, once recorded. */
  sessionId: string | null;
}

export function createCheckoutSessionRepository(db: Db) {
  const findAttempt = (userId: string, priceId: string) =>
    db
      .selectFrom('checkout_attempt')
      .select(['attempt_id as attemptId', 'stripe_checkout_session_id as sessionId'])
      .where('user_id', '=', userId)
      .where('price_id', '=', priceId)
      .executeTakeFirst();

  return {
    find(id: string): Promise<CheckoutSessionRow | undefined> {
      return db.selectFrom('checkout_session').selectAll().where('stripe_checkout_session_id', '=', id).executeTakeFirst();
    },

    /** The user's current attempt for this price, begun now if there is none: concurrent callers get the same one. */
    async currentAttempt(userId: string, priceId: string): Promise<CheckoutAttempt> {
      const found = await findAttempt(userId, priceId);
      if (found) return found;
      await db
        .insertInto('checkout_attempt')
        .values({ user_id: userId, price_id: priceId })
        .onConflict((oc) => oc.columns(['user_id', 'price_id']).doNothing())
        .execute();
      const begun = await findAttempt(userId, priceId);
      if (!begun) throw new Error(`checkout attempt of user ${userId} vanished as it was begun`);
      return begun;
    },

    /**
     * Replaces attempt `attemptId` (whose session can no longer be handed out) by a fresh one. Only that attempt:
     * when a concurrent caller already replaced it, this does nothing and both go on with the new one.
     */
    async renewAttempt(userId: string, priceId: string, attemptId: string): Promise<void> {
      await db
        .updateTable('checkout_attempt')
        .set({ attempt_id: sql<string>`gen_random_uuid()`, stripe_checkout_session_id: null, created_at: new Date() })
        .where('user_id', '=', userId)
        .where('price_id', '=', priceId)
        .where('attempt_id', '=', attemptId)
        .execute();
    },

    /**
     * Stores a session created under attempt `attemptId` and makes it that attempt's session. Safe to repeat:
     * concurrent callers of one attempt got the same session from Stripe and record the same thing.
     */
    async recordForAttempt(
      attemptId: string,
      session: { id: string; userId: string; priceId: string; url: string; expiresAt: Date },
    ): Promise<void> {
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
      await db
        .updateTable('checkout_attempt')
        .set({ stripe_checkout_session_id: session.id })
        .where('user_id', '=', session.userId)
        .where('price_id', '=', session.priceId)
        .where('attempt_id', '=', attemptId)
        .execute();
    },

    async setStatus(id: string, status: CheckoutSessionStatus): Promise<void> {
      await db.updateTable('checkout_session').set({ status }).where('stripe_checkout_session_id', '=', id).execute();
    },
  };
}
export type CheckoutSessionRepository = ReturnType<typeof createCheckoutSessionRepository>;
