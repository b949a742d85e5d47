import type { Db } from './db.js';
import type { CheckoutSessionRow, FileRow, SubscriptionRow, UserRow } from '../db/database.js';

/** Subscription statuses Stripe never leaves: nothing left to cancel. */
const ENDED_STATUSES = ['canceled', 'incomplete_expired'];

/** The mobile number a deleted user keeps until the row goes: unique, and never a number anyone can type. */
const releasedNumber = (userId: string) => `deleted:${userId}`;

export function createAccountRepository(db: Db) {
  return {
    /** The user's subscriptions that Stripe may still bill. */
    liveSubscriptions(userId: string): Promise<SubscriptionRow[]> {
      return db.selectFrom('subscription').selectAll().where('user_id', '=', userId).where('status', 'not in', ENDED_STATUSES).execute();
    },

    /** Checkout pages still open for the user: paying one after deletion would start a subscription for nobody. */
    openCheckoutSessions(userId: string): Promise<CheckoutSessionRow[]> {
      return db
        .selectFrom('checkout_session')
        .selectAll()
        .where('user_id', '=', userId)
        .where('status', '=', 'open')
        .where('expires_at', '>', new Date())
        .execute();
    },

    /**
     * Marks a live user deleted, under its row lock. The mobile number is released at once (replaced by a value
     * no client can send), so the number can sign up again while the deletion job still runs; the personal
     * details go too. Undefined when the user is unknown or already deleted.
     */
    markDeleted(userId: string): Promise<UserRow | undefined> {
      const now = new Date();
      return db
        .updateTable('users')
        .set({ deleted_at: now, updated_at: now, mobile_number: releasedNumber(userId), name: null, email: null, password_hash: null })
        .where('id', '=', userId)
        .where('deleted_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
    },

    /** Every code and send record of a number (run while the number still belongs to the user being deleted). */
    async forgetNumber(mobileNumber: string): Promise<void> {
      await db.deleteFrom('otp_challenge').where('mobile_number', '=', mobileNumber).execute();
      await db.deleteFrom('otp_send').where('mobile_number', '=', mobileNumber).execute();
    },

    /** Deleted users whose row is still there (their job has not finished), oldest first. */
    async pendingDeletions(deletedBefore: Date, limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('users')
        .select('id')
        .where('deleted_at', 'is not', null)
        .where('deleted_at', '<', deletedBefore)
        .orderBy('deleted_at')
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    },

    /** True while the user's row exists and is marked deleted: the deletion job has work left. */
    async isPendingDeletion(userId: string): Promise<boolean> {
      const row = await db.selectFrom('users').select('id').where('id', '=', userId).where('deleted_at', 'is not', null).executeTakeFirst();
      return row !== undefined;
    },

    /** The storage keys of every file the user ever stored (deleted files' objects may still linger). */
    async storageKeys(userId: string): Promise<string[]> {
      const rows = await db.selectFrom('file').select('storage_key').where('user_id', '=', userId).execute();
      return rows.map((row) => row.storage_key);
    },

    /**
     * Deletes a user marked deleted; the foreign keys cascade to everything the user owns (sessions, chatrooms,
     * messages, files, subscriptions, …). A live user is never touched. True when a row went.
     */
    async deleteMarkedUser(userId: string): Promise<boolean> {
      const result = await db.deleteFrom('users').where('id', '=', userId).where('deleted_at', 'is not', null).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Every file the user uploaded, deleted ones included, oldest first (for the account export). */
    filesOf(userId: string): Promise<FileRow[]> {
      return db.selectFrom('file').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    },
  };
}
export type AccountRepository = ReturnType<typeof createAccountRepository>;
