import type { SubscriptionRow } from '@gemini-chat/shared';
import { describe, expect, it } from 'vitest';
import { tierOf } from '../../src/services/billing-entitlement.js';

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
