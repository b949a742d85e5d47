import type Stripe from 'stripe';
import type { Logger, Repositories, Store, Tier } from '@gemini-chat/shared';
import type { Checkout } from '../schemas/billing.schemas.js';
import { isStripeNotFound, stripeCall } from '../lib/stripe-client.js';
import { isUuid } from '../lib/cursor.js';
import type { SessionChanges } from '../lib/session-cache.js';


type Ref = string | { id: string } | null | undefined;
const idOf = (ref: Ref): string | undefined => (typeof ref === 'string' ? ref : (ref?.id ?? undefined));
const fromUnix = (seconds: number | null | undefined): Date | null => (seconds ? new Date(seconds * 1000) : null);

export type WebhookOutcome = 'processed' | 'duplicate';

/** A Checkout Session as Stripe has it now: still open, paid, or not to be handed out again. */
export type CheckoutSessionState =
  | { kind: 'open'; checkout: Checkout }
  | { kind: 'paid'; subscriptionId: string | undefined }
  | { kind: 'unusable' };

/** The subscription an event is about, and who the event says it belongs to (a hint when the customer is unknown). */
function subscriptionOf(event: Stripe.Event): { subscriptionId: string; userHint?: string } | undefined {
  switch (event.type) {
    case 'checkout.session.completed': {
      const session = event.data.object;
      const subscriptionId = session.mode === 'subscription' ? idOf(session.subscription) : undefined;
      const userHint = session.client_reference_id ?? session.metadata?.userId;
      return subscriptionId ? { subscriptionId, ...(userHint ? { userHint } : {}) } : undefined;
    }
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
    case 'customer.subscription.paused':
    case 'customer.subscription.resumed':
      return { subscriptionId: event.data.object.id };
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const subscriptionId = idOf(event.data.object.parent?.subscription_details?.subscription);
      return subscriptionId ? { subscriptionId } : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Keeps the stored copy of Stripe's subscriptions and Checkout Sessions current: each is fetched from Stripe and
 * stored as Stripe has it now, never as an event body describes it, so any delivery order converges.
 */
export function createStripeSyncService(deps: {
  store: Store;
  /** Told after every committed tier change, so every API process applies the new tier on the next request. */
  sessions: SessionChanges;
  /** Re-derives and stores a user's tier from their subscriptions; the caller holds the user's row lock. */
  recomputeTier: (tx: Repositories, userId: string, now: Date) => Promise<Tier>;
  log: Logger;
}) {
  const { store, sessions, recomputeTier, log } = deps;

  /** Stripe's current state of a subscription; undefined when Stripe has no such subscription. */
  async function retrieveSubscription(stripe: Stripe, id: string): Promise<Stripe.Subscription | undefined> {
    try {
      return await stripeCall(() => stripe.subscriptions.retrieve(id));
    } catch (err) {
      if (isStripeNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Whose subscription this is: the owner of its customer, else the user its metadata (or the event) names. */
  async function ownerOf(tx: Repositories, customerId: string, candidates: Array<string | undefined>): Promise<string | undefined> {
    const byCustomer = await tx.billingAccounts.findByStripeCustomerId(customerId);
    if (byCustomer) return byCustomer.id;
    for (const candidate of candidates) {
      if (candidate && isUuid(candidate) && (await tx.billingAccounts.find(candidate))) return candidate;
    }
    return undefined;
  }

  /**
   * Stores a subscription as Stripe returned it (unless a newer retrieve is already stored) and re-derives the
   * tier. Returns the user whose tier was re-derived: the caller announces it once the transaction has committed.
   */
  async function applySnapshot(tx: Repositories, sub: Stripe.Subscription, version: string, userHint: string | undefined): Promise<string | undefined> {
    const customerId = idOf(sub.customer);
    const userId = customerId ? await ownerOf(tx, customerId, [sub.metadata?.userId, userHint]) : undefined;
    if (!customerId || !userId) {
      log.warn({ subscriptionId: sub.id, customerId }, 'stripe subscription of no known user: ignored');
      return undefined;
    }
    const now = new Date();
    // Every tier change to a user holds their row: concurrent events, status reads and the sweep re-derive it one at a time.
    await tx.billingAccounts.findForUpdate(userId);
    await tx.billingAccounts.linkStripeCustomer(userId, customerId);
    const stored = await tx.subscriptions.findByStripeIdForUpdate(sub.id);
    if (stored && BigInt(stored.sync_version) >= BigInt(version)) return undefined; // a later retrieve got here first

    // Since API version 2025-03-31.basil the billing period lives on the items, not on the subscription.
    const items = sub.items.data;
    const periodEnd = items.length > 0 ? Math.max(...items.map((item) => item.current_period_end)) : null;
    const periodStart = items.length > 0 ? Math.min(...items.map((item) => item.current_period_start)) : null;
    await tx.subscriptions.upsert({
      stripe_subscription_id: sub.id,
      user_id: userId,
      stripe_customer_id: customerId,
      status: sub.status,
      price_id: items[0]?.price.id ?? null,
      current_period_start: fromUnix(periodStart),
      current_period_end: fromUnix(periodEnd),
      cancel_at_period_end: sub.cancel_at_period_end,
      cancel_at: fromUnix(sub.cancel_at),
      canceled_at: fromUnix(sub.canceled_at),
      ended_at: fromUnix(sub.ended_at),
      past_due_since: sub.status === 'past_due' ? (stored?.status === 'past_due' ? stored.past_due_since : null) ?? now : null,
      sync_version: version,
    });
    const tier = await recomputeTier(tx, userId, now);
    log.info({ userId, subscriptionId: sub.id, status: sub.status, tier }, 'subscription synced from stripe');
    return userId;
  }

  return {
    /** Fetches one subscription from Stripe and stores it, outside any webhook. */
    async syncSubscription(stripe: Stripe, subscriptionId: string, userHint: string): Promise<void> {
      const version = await store.subscriptions.nextSyncVersion();
      const subscription = await retrieveSubscription(stripe, subscriptionId);
      if (!subscription) return;
      const changed = await store.transaction((tx) => applySnapshot(tx, subscription, version, userHint));
      if (changed) await sessions.userChanged(changed);
    },

    /** Asks Stripe about a session of ours that we hold as open, and stores what Stripe says when it is no longer open. */
    async syncCheckoutSession(stripe: Stripe, id: string): Promise<CheckoutSessionState> {
      // The customer may have paid (webhook still on its way) or the session expired.
      const session = await stripeCall(() => stripe.checkout.sessions.retrieve(id)).catch((err: unknown) => {
        if (isStripeNotFound(err)) return undefined;
        throw err;
      });
      if (session?.status === 'open' && session.url) return { kind: 'open', checkout: { checkoutUrl: session.url, sessionId: session.id } };
      await store.checkoutSessions.setStatus(id, session?.status === 'complete' ? 'complete' : 'expired');
      return session?.status === 'complete' ? { kind: 'paid', subscriptionId: idOf(session.subscription) } : { kind: 'unusable' };
    },

    /**
     * Applies one verified webhook event: the subscription it is about is re-fetched and stored, and the event id
     * is recorded in the same transaction, so a redelivery does nothing.
     */
    async handleEvent(stripe: Stripe, event: Stripe.Event): Promise<WebhookOutcome> {
      // A redelivery is answered with one query and no Stripe call.
      if (await store.stripeEvents.exists(event.id)) return 'duplicate';

      const target = subscriptionOf(event);
      let snapshot: { subscription: Stripe.Subscription; version: string } | undefined;
      if (target) {
        // The ticket is taken before the retrieve: of two racing retrieves, the one that started last is kept.
        const version = await store.subscriptions.nextSyncVersion();
        const subscription = await retrieveSubscription(stripe, target.subscriptionId);
        if (subscription) snapshot = { subscription, version };
        else log.warn({ eventId: event.id, subscriptionId: target.subscriptionId }, 'stripe has no such subscription: event ignored');
      }

      const outcome = await store.transaction(async (tx) => {
        if (!(await tx.stripeEvents.record({ id: event.id, type: event.type, created: new Date(event.created * 1000) }))) {
          return { result: 'duplicate' as const, changed: undefined };
        }
        // The user's row before the session's. subscribePro writes sessions one statement at a time, outside any
        // transaction, so it never holds a lock this waits for while waiting for one held here.
        const changed = snapshot ? await applySnapshot(tx, snapshot.subscription, snapshot.version, target?.userHint) : undefined;
        if (event.type === 'checkout.session.completed') await tx.checkoutSessions.setStatus(event.data.object.id, 'complete');
        if (event.type === 'checkout.session.expired') await tx.checkoutSessions.setStatus(event.data.object.id, 'expired');
        return { result: 'processed' as const, changed };
      });
      if (outcome.changed) await sessions.userChanged(outcome.changed);
      return outcome.result;
    },
  };
}
export type StripeSyncService = ReturnType<typeof createStripeSyncService>;
