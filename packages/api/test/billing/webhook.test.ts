import { setTimeout as sleep } from 'node:timers/promises';
import { STRIPE_API_VERSION, stripeSignatureHeader, type StripeEvent } from '@gemini-chat/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBillingTestApp,
  buildTestApp,
  expectProblem,
  freePort,
  signIn,
  stripeCalls,
  subscribe,
  subscribeAndPay,
  subscriptionStatus,
  tierInDb,
  WEBHOOK_SECRET,
  type BillingTestApp,
  type SignedIn,
} from '@gemini-chat/testkit';

const GRACE_HOURS = 48;
const HOUR_MS = 3_600_000;

let t: BillingTestApp;
beforeAll(async () => {
  // A 1 s sweep so a grace period or a cancellation that runs out with no webhook is seen within the test.
  t = await buildBillingTestApp({ BILLING_PAST_DUE_GRACE_HOURS: String(GRACE_HOURS), BILLING_SWEEP_INTERVAL_SECONDS: '1' });
});
afterAll(() => t.close());

const recordedEvents = async (ids: string[]) =>
  ids.length === 0 ? 0 : (await t.db.selectFrom('stripe_event').select('id').where('id', 'in', ids).execute()).length;
const subscriptionRow = (stripeSubscriptionId: string) =>
  t.db.selectFrom('subscription').selectAll().where('stripe_subscription_id', '=', stripeSubscriptionId).executeTakeFirstOrThrow();
const retrieves = () => stripeCalls(t.fake, 'GET', '/v1/subscriptions/:id').length;
const eventOf = (events: readonly StripeEvent[], type: string): StripeEvent => {
  const event = events.find((e) => e.type === type);
  if (!event) throw new Error(`no ${type} among ${events.map((e) => e.type).join(', ')}`);
  return event;
};

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}

/** Moves a user's stored subscription and tier expiry back in time, as if `hours` had passed with no word from Stripe. */
async function travel(user: SignedIn, stripeSubscriptionId: string, set: { past_due_since?: Date; cancel_at?: Date; current_period_end?: Date }, tierExpiresAt: Date) {
  await t.db.updateTable('subscription').set(set).where('stripe_subscription_id', '=', stripeSubscriptionId).execute();
  await t.db.updateTable('users').set({ tier_expires_at: tierExpiresAt }).where('id', '=', user.userId).execute();
}

describe('POST /webhook/stripe: signatures', () => {
  it('rejects a wrong, stale, tampered or missing signature with 400 and stores nothing; the same events signed right then count', async () => {
    const user = await signIn(t.app);
    const { sessionId } = (await subscribe(t, user)).json();
    t.fake.holdWebhooks();
    const { events } = await t.fake.completeCheckout(sessionId);
    const ids = events.map((e) => e.id);

    for (const signing of ['wrong-secret', 'stale-timestamp', 'tampered-body', 'no-signature'] as const) {
      const deliveries = await t.fake.deliverEvents(ids, { signing });
      expect(deliveries.map((d) => d.status)).toEqual(ids.map(() => 400));
      expect(JSON.parse(deliveries[0]!.responseBody)).toMatchObject({ status: 400, code: 'WEBHOOK_SIGNATURE_INVALID' });
    }
    expect(await recordedEvents(ids)).toBe(0);
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'basic', status: 'none' });

    const delivered = await t.fake.releaseWebhooks();
    expect(delivered.map((d) => d.status)).toEqual(ids.map(() => 200));
    expect(await recordedEvents(ids)).toBe(ids.length);
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'pro', status: 'active' });
  });

  it('answers problem+json 400 to an unsigned post, while every other route still parses JSON', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/webhook/stripe', payload: { id: 'evt_forged', type: 'customer.subscription.deleted' } });
    expectProblem(res, 400, 'WEBHOOK_SIGNATURE_INVALID');
    expect(await recordedEvents(['evt_forged'])).toBe(0);
    const user = await signIn(t.app); // JSON bodies elsewhere
    const bad = await t.app.inject({ method: 'POST', url: '/chatroom', payload: '{"title":', headers: { ...user.auth, 'content-type': 'application/json' } });
    expectProblem(bad, 400, 'INVALID_JSON');
  });
});

describe('POST /webhook/stripe: each event once', () => {
  it('acknowledges a redelivered event and does nothing: no Stripe call, no change', async () => {
    const user = await signIn(t.app);
    const { sessionId, subscriptionId } = await subscribeAndPay(t, user);
    const completed = t.fake.events.find((e) => e.type === 'checkout.session.completed' && e.data.object.id === sessionId)!;
    const before = await subscriptionRow(subscriptionId);
    const calls = retrieves();

    const [delivery] = await t.fake.redeliverEvent(completed.id);
    expect(delivery).toMatchObject({ status: 200 });
    expect(JSON.parse(delivery!.responseBody)).toEqual({ received: true });
    expect(retrieves()).toBe(calls);
    expect(await subscriptionRow(subscriptionId)).toEqual(before);
    expect(await recordedEvents([completed.id])).toBe(1);
  });

  it('records one event when the same delivery arrives several times at once', async () => {
    const user = await signIn(t.app);
    const { subscriptionId } = await subscribeAndPay(t, user);
    t.fake.holdWebhooks();
    const { events } = await t.fake.cancelSubscription(subscriptionId, { atPeriodEnd: true });
    const updated = eventOf(events, 'customer.subscription.updated');
    const payload = JSON.stringify(updated, null, 2);
    const headers = { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(payload, WEBHOOK_SECRET, Math.floor(Date.now() / 1000)) };

    const results = await Promise.all(Array.from({ length: 5 }, () => t.app.inject({ method: 'POST', url: '/webhook/stripe', payload, headers })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    expect(await recordedEvents([updated.id])).toBe(1);
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'pro', status: 'active', cancelAtPeriodEnd: true });

    // Stripe's own (later) delivery of it is a duplicate too.
    const delivered = await t.fake.releaseWebhooks();
    expect(delivered.map((d) => d.status)).toEqual([200]);
    expect(await recordedEvents([updated.id])).toBe(1);
  });
});

describe('POST /webhook/stripe: delivery order', () => {
  it('converges when subscription.updated (active) arrives before checkout.session.completed, and before subscription.created', async () => {
    const user = await signIn(t.app);
    const { sessionId } = (await subscribe(t, user)).json();
    t.fake.holdWebhooks();
    const { events } = await t.fake.completeCheckout(sessionId);
    const updated = eventOf(events, 'customer.subscription.updated');
    const completed = eventOf(events, 'checkout.session.completed');

    await t.fake.releaseWebhooks({ order: [updated.id, completed.id] });
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'pro', status: 'active' });
    // The rest, the stale subscription.created (status incomplete in its body) among them, come last.
    const rest = await t.fake.releaseWebhooks({ order: 'reverse' });
    expect(rest.every((d) => d.status === 200)).toBe(true);
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'pro', status: 'active', cancelAtPeriodEnd: false });
    expect(await tierInDb(t, user.userId)).toBe('pro');
  });

  it('converges when subscription.deleted arrives before the subscription.updated that preceded it', async () => {
    const user = await signIn(t.app);
    const { subscriptionId } = await subscribeAndPay(t, user);
    t.fake.holdWebhooks();
    await t.fake.cancelSubscription(subscriptionId, { atPeriodEnd: true });
    await t.fake.advanceToPeriodEnd(subscriptionId);
    expect(t.fake.heldEvents.map((e) => e.type)).toEqual(['customer.subscription.updated', 'customer.subscription.deleted']);

    const [deleted, updated] = await t.fake.releaseWebhooks({ order: 'reverse' });
    expect([deleted?.type, updated?.type]).toEqual(['customer.subscription.deleted', 'customer.subscription.updated']);
    expect([deleted?.status, updated?.status]).toEqual([200, 200]);
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'basic', status: 'canceled' });
    expect(await tierInDb(t, user.userId)).toBe('basic');
    expect((await subscriptionRow(subscriptionId)).status).toBe('canceled');
  });
});

describe('payment failure and cancellation', () => {
  it('past_due keeps Pro through the grace period, then basic with no webhook; a successful retry restores Pro', async () => {
    const user = await signIn(t.app);
    const { subscriptionId } = await subscribeAndPay(t, user);
    await t.fake.failPayment(subscriptionId);
    const pastDue = await subscriptionStatus(t, user);
    expect(pastDue).toMatchObject({ tier: 'pro', status: 'past_due' });
    expect(Math.abs(Date.parse(pastDue.graceEndsAt) - (Date.now() + GRACE_HOURS * HOUR_MS))).toBeLessThan(60_000);

    // Stripe retries and fails again: the grace period still counts from the first failure.
    await t.fake.failPayment(subscriptionId);
    expect((await subscriptionStatus(t, user)).graceEndsAt).toBe(pastDue.graceEndsAt);

    // The grace period runs out and Stripe says nothing more: the sweep alone returns the user to basic.
    const since = new Date(Date.now() - (GRACE_HOURS + 1) * HOUR_MS);
    await travel(user, subscriptionId, { past_due_since: since }, new Date(since.getTime() + GRACE_HOURS * HOUR_MS));
    await eventually(async () => (await tierInDb(t, user.userId)) === 'basic');
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'basic', status: 'past_due' });
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).json().tier).toBe('basic');

    await t.fake.renewSubscription(subscriptionId); // the card works again
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'pro', status: 'active', graceEndsAt: null });
  });

  it('a cancellation keeps Pro until the period end, then returns the user to basic', async () => {
    const user = await signIn(t.app);
    const { subscriptionId } = await subscribeAndPay(t, user);
    await t.fake.cancelSubscription(subscriptionId, { atPeriodEnd: true });
    const cancelling = await subscriptionStatus(t, user);
    expect(cancelling).toMatchObject({ tier: 'pro', status: 'active', cancelAtPeriodEnd: true });
    const { tier_expires_at } = await t.db.selectFrom('users').select('tier_expires_at').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(tier_expires_at?.toISOString()).toBe(cancelling.currentPeriodEnd);

    await t.fake.advanceToPeriodEnd(subscriptionId);
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'basic', status: 'canceled' });
    expect(await tierInDb(t, user.userId)).toBe('basic');
  });

  it('ends Pro at the period end of a cancelled plan even when the deleted webhook never comes', async () => {
    const user = await signIn(t.app);
    const { subscriptionId } = await subscribeAndPay(t, user);
    await t.fake.cancelSubscription(subscriptionId, { atPeriodEnd: true });
    const ended = new Date(Date.now() - 1000);
    await travel(user, subscriptionId, { current_period_end: ended, cancel_at: ended }, ended);
    // Read straight away (before the sweep): the status read applies the end itself.
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'basic', status: 'canceled', cancelAtPeriodEnd: true });
    expect(await tierInDb(t, user.userId)).toBe('basic');
  });
});

describe('Stripe unreachable', () => {
  it('answers 503 with Retry-After and stores nothing, so Stripe delivers the event again', async () => {
    const port = await freePort();
    const down = await buildTestApp({
      STRIPE_SECRET_KEY: 'sk_test_billing_tests',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE_URL: `http://127.0.0.1:${port}`,
    });
    try {
      const created = Math.floor(Date.now() / 1000);
      const payload = JSON.stringify(
        {
          id: 'evt_test_outage',
          object: 'event',
          api_version: STRIPE_API_VERSION,
          created,
          data: { object: { id: 'sub_test_outage', object: 'subscription', status: 'active' } },
          livemode: false,
          pending_webhooks: 1,
          request: { id: null, idempotency_key: null },
          type: 'customer.subscription.updated',
        },
        null,
        2,
      );
      const res = await down.app.inject({
        method: 'POST',
        url: '/webhook/stripe',
        payload,
        headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(payload, WEBHOOK_SECRET, created) },
      });
      expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(await down.db.selectFrom('stripe_event').selectAll().execute()).toEqual([]);
    } finally {
      await down.close();
    }
  });
});

