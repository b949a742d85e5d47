import type Stripe from 'stripe';
import {
  AppError,
  badRequest,
  type BillingAccountRow,
  conflict,
  notFound,
  type Config,
  type Logger,
  type Quota,
  type Repositories,
  type Store,
  type Tier,
} from '@gemini-chat/shared';
import type { BillingPortalSession, Checkout, SubscriptionStatus } from '../schemas/billing.schemas.js';
import { stripeCall } from '../lib/stripe-client.js';
import type { SessionChanges } from '../lib/session-cache.js';
import { createStripeSyncService, type CheckoutSessionState, type WebhookOutcome } from './stripe-sync.service.js';
import { currentSubscriptionOf, graceEnd, isUnsettled, scheduledEnd, subscriptionStateOf, tierOf } from './billing-entitlement.js';

const HOUR_MS = 3_600_000;
/** An open session about to expire is not handed out again: the customer needs time to pay. */
const REUSE_MIN_REMAINING_MS = 10 * 60_000;
const SWEEP_BATCH = 100;
const ATTEMPT_ROUNDS = 3;


export function createBillingService(deps: {
  store: Store;
  quota: Quota;
  /** Told after every committed tier change, so every API process applies the new tier on the next request. */
  sessions: SessionChanges;
  stripe: Stripe | undefined;
  config: Config['billing'];
  log: Logger;
}) {
  const { store, quota, sessions, config, log } = deps;
  const graceMs = config.pastDueGraceHours * HOUR_MS;

  function requireStripe(): { stripe: Stripe; webhookSecret: string } {
    if (!deps.stripe || !config.stripe) {
      throw new AppError(503, 'BILLING_NOT_CONFIGURED', 'Payments are not available on this server.');
    }
    return { stripe: deps.stripe, webhookSecret: config.stripe.webhookSecret };
  }

  const alreadySubscribed = (detail = 'You already have Pro. Manage the plan through POST /subscription/portal.') =>
    conflict('ALREADY_SUBSCRIBED', detail);

  /** Re-derives the user's tier from their subscriptions (the caller holds the user's row lock). */
  async function recomputeTier(tx: Repositories, userId: string, now: Date): Promise<Tier> {
    const { tier, expiresAt } = tierOf(await tx.subscriptions.listForUser(userId), now, graceMs);
    await tx.billingAccounts.setTier(userId, tier, expiresAt);
    return tier;
  }

  const sync = createStripeSyncService({ store, sessions, recomputeTier, log });

  async function refreshTier(userId: string, now: Date): Promise<Tier | undefined> {
    const tier = await store.transaction(async (tx) => {
      if (!(await tx.billingAccounts.findForUpdate(userId))) return undefined;
      return recomputeTier(tx, userId, now);
    });
    if (tier) await sessions.userChanged(userId);
    return tier;
  }

  /** The user's Stripe customer, created on first use. */
  async function customerOf(stripe: Stripe, account: BillingAccountRow): Promise<string> {
    if (account.stripe_customer_id) return account.stripe_customer_id;
    // One key per user: concurrent calls, and a retry after a failure below (within Stripe's 24 hours), get the
    // same customer back instead of a second one.
    const customer = await stripeCall(() =>
      stripe.customers.create(
        { phone: account.mobile_number, metadata: { userId: account.id } },
        { idempotencyKey: `customer-${account.id}` },
      ),
    );
    if (await store.billingAccounts.linkStripeCustomer(account.id, customer.id)) return customer.id;
    // Linked meanwhile, by a concurrent call (the same customer) or by a webhook: the stored one is the user's.
    const linked = (await store.billingAccounts.find(account.id))?.stripe_customer_id;
    if (!linked) throw new Error(`Stripe customer ${customer.id} of user ${account.id} is linked to another user`);
    return linked;
  }

  /** Whether a session of ours can be handed out again: known open with time left to pay, and Stripe agrees. */
  async function sessionOf(stripe: Stripe, id: string, reusableUntil: Date): Promise<CheckoutSessionState> {
    const stored = await store.checkoutSessions.find(id);
    // Known closed, or about to expire: the customer needs time to pay.
    if (!stored || stored.status !== 'open' || stored.expires_at <= reusableUntil) return { kind: 'unusable' };
    // Stripe has the last word.
    return sync.syncCheckoutSession(stripe, id);
  }

  return {
    /**
     * A Checkout Session for the Pro price: the user's open one if there is one, else a new one. No transaction
     * or lock is held while Stripe answers (up to three calls, each with retries): concurrent calls agree through
     * stable idempotency keys instead, one per user for the customer and one per checkout attempt for the
     * session, so they still make one customer and one session.
     */
    async subscribePro(userId: string): Promise<Checkout> {
      const { stripe } = requireStripe();
      const now = new Date();
      const account = await store.billingAccounts.find(userId);
      if (!account) throw notFound('user');
      const subs = await store.subscriptions.listForUser(userId);
      if (tierOf(subs, now, graceMs).tier === 'pro') throw alreadySubscribed();
      if (subs.some(isUnsettled)) {
        throw alreadySubscribed('Your plan has an unpaid invoice: update the card through POST /subscription/portal instead.');
      }
      const customerId = await customerOf(stripe, account);
      const reusableUntil = new Date(now.getTime() + REUSE_MIN_REMAINING_MS);

      // Each round either ends or retires an attempt whose session is unusable; a concurrent caller can retire
      // the same one first, hence more than two rounds.
      for (let round = 0; round < ATTEMPT_ROUNDS; round++) {
        const attempt = await store.checkoutSessions.currentAttempt(userId, config.proPriceId);
        if (attempt.sessionId) {
          const found = await sessionOf(stripe, attempt.sessionId, reusableUntil);
          if (found.kind === 'open') return found.checkout;
          if (found.kind === 'paid') {
            // Paid, but the webhook has not arrived (or never will): apply Stripe's state now instead of selling twice.
            if (found.subscriptionId) await sync.syncSubscription(stripe, found.subscriptionId, userId);
            throw alreadySubscribed('Your Pro payment went through already. Manage the plan through POST /subscription/portal.');
          }
          await store.checkoutSessions.renewAttempt(userId, config.proPriceId, attempt.attemptId);
          continue;
        }

        // Every caller of this attempt sends the same key, so Stripe creates one session and replays it to the rest.
        const session = await stripeCall(() =>
          stripe.checkout.sessions.create(
            {
              mode: 'subscription',
              customer: customerId,
              client_reference_id: userId,
              line_items: [{ price: config.proPriceId, quantity: 1 }],
              metadata: { userId },
              subscription_data: { metadata: { userId } },
              success_url: config.successUrl,
              cancel_url: config.cancelUrl,
            },
            { idempotencyKey: `checkout-${userId}-${attempt.attemptId}` },
          ),
        );
        if (!session.url) throw new Error(`Stripe returned Checkout Session ${session.id} without a url`);
        await store.checkoutSessions.recordForAttempt(attempt.attemptId, {
          id: session.id,
          userId,
          priceId: config.proPriceId,
          url: session.url,
          expiresAt: new Date(session.expires_at * 1000),
        });
        return { checkoutUrl: session.url, sessionId: session.id };
      }
      throw new Error(`checkout attempt of user ${userId} was renewed ${ATTEMPT_ROUNDS} times in one call`);
    },

    async status(userId: string): Promise<SubscriptionStatus> {
      const now = new Date();
      const account = await store.billingAccounts.find(userId);
      if (!account) throw notFound('user');
      let tier = account.tier;
      // A time-limited Pro that ran out: apply it now rather than waiting for the sweep.
      if (account.tier_expires_at && account.tier_expires_at <= now) tier = (await refreshTier(userId, now)) ?? tier;
      const current = currentSubscriptionOf(await store.subscriptions.listForUser(userId), now, graceMs);
      const usage = await quota.usage(userId, tier);
      return {
        tier,
        status: current ? subscriptionStateOf(current, now, graceMs) : 'none',
        currentPeriodEnd: current?.current_period_end?.toISOString() ?? null,
        cancelAtPeriodEnd: current ? scheduledEnd(current) !== null : false,
        graceEndsAt: current?.status === 'past_due' ? graceEnd(current, graceMs).toISOString() : null,
        usage: { used: usage.used, limit: usage.limit, resetsAt: usage.resetsAt.toISOString() },
      };
    },

    async portal(userId: string): Promise<BillingPortalSession> {
      const { stripe } = requireStripe();
      const account = await store.billingAccounts.find(userId);
      if (!account) throw notFound('user');
      const customer = account.stripe_customer_id;
      if (!customer) throw conflict('NO_BILLING_ACCOUNT', 'There is no billing account yet: subscribe first with POST /subscribe/pro.');
      const session = await stripeCall(() => stripe.billingPortal.sessions.create({ customer, return_url: config.portalReturnUrl }));
      return { url: session.url };
    },

    /**
     * One webhook delivery. The signature is checked over the raw bytes; the event id is recorded in the same
     * transaction as its effect, so a redelivery does nothing. The effect never comes from the event body: the
     * subscription is re-fetched from Stripe and stored as Stripe has it now, so any delivery order converges.
     * Stripe unreachable → DependencyUnavailableError (503, nothing stored) and Stripe delivers again later.
     */
    async handleWebhook(rawBody: Buffer, signature: string | undefined): Promise<WebhookOutcome> {
      const { stripe, webhookSecret } = requireStripe();
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signature ?? '', webhookSecret);
      } catch {
        throw badRequest('WEBHOOK_SIGNATURE_INVALID', 'The Stripe-Signature header is missing, stale, or does not match the body.');
      }
      return sync.handleEvent(stripe, event);
    },

    /** Returns to basic every user whose time-limited Pro ran out with no webhook to say so. */
    async expireTiers(now = new Date()): Promise<number> {
      const userIds = await store.billingAccounts.listTierExpired(now, SWEEP_BATCH);
      for (const userId of userIds) await refreshTier(userId, now);
      return userIds.length;
    },
  };
}
export type BillingService = ReturnType<typeof createBillingService>;

/** Runs `expireTiers` every interval in this process (each API instance may; the work is idempotent). */
export function startBillingSweep(billing: BillingService, intervalSeconds: number, log: Logger): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    billing
      .expireTiers()
      .then((count) => count > 0 && log.info({ count }, 'billing sweep: time-limited pro expired'))
      .catch((err: unknown) => log.warn({ err }, 'billing sweep failed'))
      .finally(() => (running = false));
  }, intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
