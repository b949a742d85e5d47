import type { SubscriptionRow, Tier } from '@gemini-chat/shared';
import type { SubscriptionState } from '../schemas/billing.schemas.js';

// What stored subscriptions grant at a given moment. Pure functions of the rows and the clock, with no I/O, so
// checkout, status, webhooks and the sweep all apply the same rules and the rules are testable on their own.

/** Stripe statuses of a subscription that still wants money from the customer: paying again would double-bill. */
const UNSETTLED = new Set(['past_due', 'unpaid']);

export const isUnsettled = (sub: SubscriptionRow): boolean => UNSETTLED.has(sub.status);

/** When a cancellation takes effect, if one is scheduled (`cancel_at`, or the period end). */
export function scheduledEnd(sub: SubscriptionRow): Date | null {
  return sub.cancel_at ?? (sub.cancel_at_period_end ? sub.current_period_end : null);
}

export function graceEnd(sub: SubscriptionRow, graceMs: number): Date {
  return new Date((sub.past_due_since ?? sub.updated_at).getTime() + graceMs);
}

export interface Entitlement {
  pro: boolean;
  /** When this Pro ends without any further word from Stripe; null while it lasts until Stripe says otherwise. */
  until: Date | null;
}

/**
 * What one subscription grants at `now`. Pro while Stripe says active or trialing (until a scheduled cancellation
 * takes effect), and while past_due for the grace period; nothing in any other status.
 */
export function entitlementOf(sub: SubscriptionRow, now: Date, graceMs: number): Entitlement {
  const end = scheduledEnd(sub);
  let until: Date | null;
  if (sub.status === 'active' || sub.status === 'trialing') {
    until = end;
  } else if (sub.status === 'past_due') {
    const grace = graceEnd(sub, graceMs);
    until = end && end < grace ? end : grace;
  } else {
    return { pro: false, until: null };
  }
  return until && until <= now ? { pro: false, until: null } : { pro: true, until };
}

/** A user's tier from all their subscriptions, and when it lapses on its own (null: not by time). */
export function tierOf(subs: SubscriptionRow[], now: Date, graceMs: number): { tier: Tier; expiresAt: Date | null } {
  const grants = subs.map((sub) => entitlementOf(sub, now, graceMs)).filter((e) => e.pro);
  if (grants.length === 0) return { tier: 'basic', expiresAt: null };
  if (grants.some((e) => e.until === null)) return { tier: 'pro', expiresAt: null };
  return { tier: 'pro', expiresAt: new Date(Math.max(...grants.map((e) => (e.until as Date).getTime()))) };
}

/** The subscription status clients see (see SubscriptionStateSchema). */
export function subscriptionStateOf(sub: SubscriptionRow, now: Date, graceMs: number): SubscriptionState {
  switch (sub.status) {
    case 'active':
    case 'trialing': {
      const end = scheduledEnd(sub);
      return end && end <= now ? 'canceled' : sub.status;
    }
    case 'past_due':
    case 'unpaid':
      return 'past_due';
    case 'incomplete':
    case 'incomplete_expired':
      return 'none';
    default:
      return entitlementOf(sub, now, graceMs).pro ? 'active' : 'canceled';
  }
}

/**
 * The subscription a status reply describes: one granting Pro, else one asking for money, else the latest.
 * `subs` must be newest first (as listForUser returns them): the sort is stable, so the newest wins a tie.
 */
export function currentSubscriptionOf(subs: SubscriptionRow[], now: Date, graceMs: number): SubscriptionRow | undefined {
  const rank = (sub: SubscriptionRow) =>
    entitlementOf(sub, now, graceMs).pro ? 0 : isUnsettled(sub) ? 1 : sub.status.startsWith('incomplete') ? 3 : 2;
  return [...subs].sort((a, b) => rank(a) - rank(b))[0];
}
