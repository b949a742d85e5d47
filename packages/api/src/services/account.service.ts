import type Stripe from 'stripe';
import { AppError, notFound, type JobProducer, type Logger, type Repositories, type Store } from '@gemini-chat/shared';
import { toChatroomExports } from '../lib/chatroom-export.js';
import type { AccountExport } from '../schemas/account.schemas.js';
import { isStripeNotFound, StripeRequestError, stripeCall } from '../lib/stripe-client.js';
import type { SessionChanges } from '../lib/session-cache.js';
import type { BillingService } from './billing.service.js';
import type { OtpService } from './otp.service.js';
import type { UserService } from './user.service.js';
import { toExportedFile, toUser } from './mappers.js';

const ENDED_SUBSCRIPTION_STATUSES = new Set(['canceled', 'incomplete_expired']);

export function createAccountService(deps: {
  store: Store;
  otp: OtpService;
  users: UserService;
  billing: BillingService;
  stripe: Stripe | undefined;
  jobs: Pick<JobProducer, 'enqueue'>;
  /** Told once the deletion committed, so no API process keeps trusting the user's sessions. */
  sessions: SessionChanges;
  log: Logger;
}) {
  const { store, otp, users, billing, jobs, sessions, log } = deps;

  function requireStripe(): Stripe {
    if (!deps.stripe) throw new AppError(503, 'BILLING_NOT_CONFIGURED', 'Payments are not available on this server; the subscription cannot be cancelled now.');
    return deps.stripe;
  }

  async function cancelSubscription(stripe: Stripe, id: string): Promise<void> {
    try {
      await stripeCall(() => stripe.subscriptions.cancel(id));
    } catch (err) {
      if (isStripeNotFound(err)) return;
      // Refused because it already ended (our copy lags behind a webhook): that is what we wanted.
      if (err instanceof StripeRequestError) {
        const current = await stripeCall(() => stripe.subscriptions.retrieve(id));
        if (ENDED_SUBSCRIPTION_STATUSES.has(current.status)) return;
      }
      throw err;
    }
  }

  /** An open Checkout page must not take a payment for an account that no longer exists. */
  async function closeCheckout(stripe: Stripe, id: string): Promise<void> {
    try {
      await stripeCall(() => stripe.checkout.sessions.expire(id));
    } catch (err) {
      if (isStripeNotFound(err)) return;
      if (!(err instanceof StripeRequestError)) throw err;
      // Not open any more: paid just now (its webhook not yet here), so cancel what the payment started.
      const session = await stripeCall(() => stripe.checkout.sessions.retrieve(id));
      if (session.status === 'open') throw err;
      const subscription = typeof session.subscription === 'string' ? session.subscription : session.subscription?.id;
      if (subscription) await cancelSubscription(stripe, subscription);
    }
  }

  /** Stops all billing of the user at once (not at the period's end): nothing is charged after the deletion. */
  async function endBilling(tx: Repositories, userId: string): Promise<void> {
    const [subscriptions, checkouts] = await Promise.all([tx.accounts.liveSubscriptions(userId), tx.accounts.openCheckoutSessions(userId)]);
    if (subscriptions.length === 0 && checkouts.length === 0) return;
    const stripe = requireStripe();
    for (const checkout of checkouts) await closeCheckout(stripe, checkout.stripe_checkout_session_id);
    for (const subscription of subscriptions) await cancelSubscription(stripe, subscription.stripe_subscription_id);
  }

  return {
    /**
     * Deletes the account behind a fresh `delete_account` code. Billing ends first, inside the code's transaction:
     * if Stripe is out of reach the request fails (503) with the code still usable and nothing deleted. Then, in
     * the same transaction, the user is marked deleted (number released, details dropped), every session revoked
     * and every code of the number dropped. The files and rows go in the `delete-account` job.
     */
    async deleteAccount(userId: string, code: string): Promise<void> {
      const user = await store.users.findById(userId);
      if (!user) throw notFound('user');
      await otp.verify(user.mobile_number, ['delete_account'], code, async (tx) => {
        await endBilling(tx, userId);
        if (!(await tx.accounts.markDeleted(userId))) throw notFound('user');
        await tx.sessions.revokeAllForUser(userId, 'account_deleted');
        await tx.accounts.forgetNumber(user.mobile_number);
      });
      await sessions.userChanged(userId);
      try {
        await jobs.enqueue('delete-account', { userId });
      } catch (err) {
        // The deletion is committed and the account unusable; the worker's sweep enqueues the job it finds missing.
        log.warn({ err, userId }, 'could not enqueue the account deletion; the sweep will');
      }
    },

    /** Everything the user has, as one document (see AccountExportSchema). */
    async exportAccount(userId: string): Promise<AccountExport> {
      const row = await store.users.findById(userId);
      if (!row) throw notFound('user');
      const exportedAt = new Date();
      const [me, subscription, chatrooms, files] = await Promise.all([
        users.me(userId),
        billing.status(userId),
        store.chatroomExports.allOf(userId),
        store.accounts.filesOf(userId),
      ]);
      return {
        format: 'gemini-chat.account-export',
        version: 1,
        exportedAt: exportedAt.toISOString(),
        profile: toUser(row),
        subscription,
        usage: me.usage,
        chatrooms: toChatroomExports(chatrooms, exportedAt),
        files: files.map(toExportedFile),
      };
    },
  };
}
export type AccountService = ReturnType<typeof createAccountService>;
