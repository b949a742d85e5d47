import type { SubscriptionRow } from '@gemini-chat/shared';
import { describe, expect, it } from 'vitest';
import {
  currentSubscriptionOf,
  entitlementOf,
  graceEnd,
  subscriptionStateOf,
  tierOf,
} from '../../src/services/billing-entitlement.js';

const HOUR = 3_600_000;
const now = new Date('2026-11-26T12:00:00Z');
const at = (hours: number) => new Date(now.getTime() + hours * HOUR);
const grace = 72 * HOUR;

function sub(overrides: Partial<SubscriptionRow>): SubscriptionRow {
  return {
    id: 'id',
    stripe_subscription_id: 'sub_x',
    user_id: 'user',
    stripe_customer_id: 'cus_x',
    status: 'active',
    price_id: 'price_pro_monthly',
    current_period_start: at(-24),
    current_period_end: at(24 * 29),
    cancel_at_period_end: false,
    cancel_at: null,
    canceled_at: null,
    ended_at: null,
    past_due_since: null,
    sync_version: '1',
    created_at: at(-24),
    updated_at: at(-24),
    ...overrides,
  };
}

describe('tierOf', () => {
  it('active and trialing are pro with no expiry; a scheduled cancellation is pro until it takes effect', () => {
    expect(tierOf([sub({})], now, grace)).toEqual({ tier: 'pro', expiresAt: null });
    expect(tierOf([sub({ status: 'trialing' })], now, grace)).toEqual({ tier: 'pro', expiresAt: null });
    expect(tierOf([sub({ cancel_at_period_end: true })], now, grace)).toEqual({ tier: 'pro', expiresAt: at(24 * 29) });
    expect(tierOf([sub({ cancel_at: at(5) })], now, grace)).toEqual({ tier: 'pro', expiresAt: at(5) });
    expect(tierOf([sub({ cancel_at_period_end: true, current_period_end: at(-1) })], now, grace)).toEqual({ tier: 'basic', expiresAt: null });
  });

  it('past_due is pro for the grace period from when it was first seen, or until an earlier scheduled end', () => {
    expect(tierOf([sub({ status: 'past_due', past_due_since: at(-10) })], now, grace)).toEqual({ tier: 'pro', expiresAt: at(62) });
    expect(tierOf([sub({ status: 'past_due', past_due_since: at(-73) })], now, grace)).toEqual({ tier: 'basic', expiresAt: null });
    expect(tierOf([sub({ status: 'past_due', past_due_since: at(-10), cancel_at: at(2) })], now, grace)).toEqual({ tier: 'pro', expiresAt: at(2) });
  });

  it('every other status is basic; with several subscriptions the most generous wins', () => {
    for (const status of ['canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused', 'something_new']) {
      expect(tierOf([sub({ status })], now, grace)).toEqual({ tier: 'basic', expiresAt: null });
    }
    expect(tierOf([sub({ status: 'canceled' }), sub({ status: 'past_due', past_due_since: at(-1) })], now, grace)).toEqual({ tier: 'pro', expiresAt: at(71) });
    expect(tierOf([sub({ cancel_at: at(3) }), sub({})], now, grace)).toEqual({ tier: 'pro', expiresAt: null });
    expect(tierOf([], now, grace)).toEqual({ tier: 'basic', expiresAt: null });
  });
});

describe('entitlementOf', () => {
  it('says until when Pro ends with no further word from Stripe: null while it renews', () => {
    expect(entitlementOf(sub({}), now, grace)).toEqual({ pro: true, until: null });
    expect(entitlementOf(sub({ cancel_at_period_end: true }), now, grace)).toEqual({ pro: true, until: at(24 * 29) });
    expect(entitlementOf(sub({ status: 'past_due', past_due_since: at(-10) }), now, grace)).toEqual({ pro: true, until: at(62) });
    expect(entitlementOf(sub({ status: 'canceled' }), now, grace)).toEqual({ pro: false, until: null });
  });

  it('counts the grace from the last update when past_due was never seen starting', () => {
    const row = sub({ status: 'past_due', past_due_since: null, updated_at: at(-2) });
    expect(graceEnd(row, grace)).toEqual(at(70));
    expect(entitlementOf(row, now, grace)).toEqual({ pro: true, until: at(70) });
  });
});

describe('subscriptionStateOf', () => {
  it("maps Stripe's statuses to the five a client sees", () => {
    expect(subscriptionStateOf(sub({}), now, grace)).toBe('active');
    expect(subscriptionStateOf(sub({ status: 'trialing' }), now, grace)).toBe('trialing');
    expect(subscriptionStateOf(sub({ status: 'past_due', past_due_since: at(-1) }), now, grace)).toBe('past_due');
    expect(subscriptionStateOf(sub({ status: 'past_due', past_due_since: at(-100) }), now, grace)).toBe('past_due');
    expect(subscriptionStateOf(sub({ status: 'unpaid' }), now, grace)).toBe('past_due');
    expect(subscriptionStateOf(sub({ status: 'incomplete' }), now, grace)).toBe('none');
    expect(subscriptionStateOf(sub({ status: 'incomplete_expired' }), now, grace)).toBe('none');
    for (const status of ['canceled', 'paused', 'something_new']) {
      expect(subscriptionStateOf(sub({ status }), now, grace)).toBe('canceled');
    }
  });

  it('an active plan reads active until its scheduled cancellation takes effect, canceled from then on', () => {
    expect(subscriptionStateOf(sub({ cancel_at_period_end: true, current_period_end: at(-1) }), now, grace)).toBe('canceled');
    expect(subscriptionStateOf(sub({ cancel_at: at(-1) }), now, grace)).toBe('canceled');
    expect(subscriptionStateOf(sub({ cancel_at: at(1) }), now, grace)).toBe('active');
  });
});

describe('currentSubscriptionOf', () => {
  const named = (name: string, overrides: Partial<SubscriptionRow>) => sub({ stripe_subscription_id: name, ...overrides });
  const current = (subs: SubscriptionRow[]) => currentSubscriptionOf(subs, now, grace)?.stripe_subscription_id;

  it('describes the one granting Pro, else one asking for money, else the newest, with incomplete ones last', () => {
    expect(current([named('canceled', { status: 'canceled' }), named('active', {})])).toBe('active');
    expect(current([named('canceled', { status: 'canceled' }), named('unpaid', { status: 'unpaid' })])).toBe('unpaid');
    expect(current([named('incomplete', { status: 'incomplete' }), named('canceled', { status: 'canceled' })])).toBe('canceled');
    expect(current([named('newer', { status: 'canceled' }), named('older', { status: 'canceled' })])).toBe('newer');
    expect(current([named('incomplete', { status: 'incomplete' })])).toBe('incomplete');
    expect(current([])).toBeUndefined();
  });

  it('a past_due plan past its grace still asks for money: it is shown before a canceled one', () => {
    expect(current([named('canceled', { status: 'canceled' }), named('late', { status: 'past_due', past_due_since: at(-100) })])).toBe('late');
  });
});
