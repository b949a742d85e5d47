import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildBillingTestApp,
  buildTestApp,
  CANCEL_URL,
  expectProblem,
  PORTAL_RETURN_URL,
  PRO_PRICE,
  signIn,
  stripeCalls,
  subscribe,
  subscribeAndPay,
  subscriptionStatus,
  SUCCESS_URL,
  tierInDb,
  type BillingTestApp,
} from '@gemini-chat/testkit';

let t: BillingTestApp;
beforeAll(async () => {
  t = await buildBillingTestApp({ QUOTA_BASIC_DAILY: '2', QUOTA_PRO_DAILY: '50' });
});
afterAll(() => t.close());

const customersCreatedFor = (userId: string) =>
  stripeCalls(t.fake, 'POST', '/v1/customers').filter((r) => (r.body.metadata as Record<string, string> | undefined)?.userId === userId);
const sessionsCreatedFor = (userId: string) =>
  stripeCalls(t.fake, 'POST', '/v1/checkout/sessions').filter((r) => r.body.client_reference_id === userId);

describe('POST /subscribe/pro', () => {
  it('creates a subscription-mode Checkout Session for the Pro price, linked to the user, with URLs from config', async () => {
    const user = await signIn(t.app);
    // A forged Host must not steer where Stripe sends the customer back.
    const res = await t.app.inject({
      method: 'POST',
      url: '/subscribe/pro',
      headers: { ...user.auth, host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.sessionId).toMatch(/^cs_test_/);
    expect(body.checkoutUrl).toBe(`${t.fake.url}/c/pay/${body.sessionId}`);

    const [customer] = customersCreatedFor(user.userId);
    expect(customer).toMatchObject({ idempotencyKey: `customer-${user.userId}`, body: { metadata: { userId: user.userId } } });
    const [created] = sessionsCreatedFor(user.userId);
    const customerId = (t.fake.retrieve(body.sessionId) as { customer: string }).customer;
    expect(customerId).toMatch(/^cus_/);
    expect(created?.body).toEqual({
      mode: 'subscription',
      customer: customerId,
      client_reference_id: user.userId,
      line_items: [{ price: PRO_PRICE, quantity: '1' }],
      metadata: { userId: user.userId },
      subscription_data: { metadata: { userId: user.userId } },
      success_url: SUCCESS_URL,
      cancel_url: CANCEL_URL,
    });
    expect(created?.idempotencyKey).toMatch(new RegExp(`^checkout-${user.userId}-`));
    const stored = await t.db.selectFrom('users').select('stripe_customer_id').where('id', '=', user.userId).executeTakeFirstOrThrow();
    expect(stored.stripe_customer_id).toBe(customerId);
  });

  it('hands back the open session instead of creating a second one, and a new one once it has expired', async () => {
    const user = await signIn(t.app);
    const first = (await subscribe(t, user)).json();
    const again = await subscribe(t, user);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first);
    expect(sessionsCreatedFor(user.userId)).toHaveLength(1);

    const stripe = new Stripe('sk_test_billing_tests', { ...t.fake.stripeConfig, maxNetworkRetries: 0 });
    await stripe.checkout.sessions.expire(first.sessionId);
    const fresh = (await subscribe(t, user)).json();
    expect(fresh.sessionId).not.toBe(first.sessionId);
    expect(sessionsCreatedFor(user.userId)).toHaveLength(2);
    expect(customersCreatedFor(user.userId)).toHaveLength(1); // one customer per user, for good
  });

  it('does not sell twice when the customer paid but no webhook arrived: it syncs from Stripe and answers 409', async () => {
    const user = await signIn(t.app);
    const { sessionId } = (await subscribe(t, user)).json();
    t.fake.holdWebhooks();
    try {
      await t.fake.completeCheckout(sessionId);
      expectProblem(await subscribe(t, user), 409, 'ALREADY_SUBSCRIBED');
      expect(sessionsCreatedFor(user.userId)).toHaveLength(1);
      expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'pro', status: 'active' });
    } finally {
      const late = await t.fake.releaseWebhooks();
      expect(late.every((d) => d.status === 200)).toBe(true);
    }
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'pro', status: 'active' });
  });

  it('makes one Stripe customer and one session for concurrent calls', async () => {
    const user = await signIn(t.app);
    const results = await Promise.all(Array.from({ length: 6 }, () => subscribe(t, user)));
    expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(201));
    expect(new Set(results.map((r) => r.json().sessionId)).size).toBe(1);
    expect(customersCreatedFor(user.userId)).toHaveLength(1);
    expect(sessionsCreatedFor(user.userId)).toHaveLength(1);
  });

  it('answers 409 ALREADY_SUBSCRIBED to a pro user', async () => {
    const user = await signIn(t.app);
    await subscribeAndPay(t, user);
    expectProblem(await subscribe(t, user), 409, 'ALREADY_SUBSCRIBED');
  });

  it('needs a bearer token', async () => {
    expectProblem(await t.app.inject({ method: 'POST', url: '/subscribe/pro' }), 401, 'UNAUTHORIZED');
    expectProblem(await t.app.inject({ url: '/subscription/status' }), 401, 'UNAUTHORIZED');
  });
});

describe('the whole flow, no browser', () => {
  it('subscribe → Pay on the hosted Checkout page → signed webhooks → Pro, with the Pro quota at once', async () => {
    const user = await signIn(t.app);
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) rooms.push((await t.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id);
    // No worker runs here: replies stay queued, so each prompt goes to a room of its own.
    const send = (i: number) =>
      t.app.inject({ method: 'POST', url: `/chatroom/${rooms[i]}/message`, payload: { content: 'hi' }, headers: user.auth });
    expect(await subscriptionStatus(t, user)).toMatchObject({ tier: 'basic', status: 'none', currentPeriodEnd: null, cancelAtPeriodEnd: false });
    expect((await send(0)).statusCode).toBe(202);
    expect((await send(1)).statusCode).toBe(202);
    expectProblem(await send(2), 429, 'QUOTA_EXCEEDED');

    const { checkoutUrl, sessionId } = (await subscribe(t, user)).json();
    const page = await fetch(checkoutUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('action="/c/pay/');
    // The Pay button: the fake creates the subscription, delivers the signed webhooks, then redirects.
    const paid = await fetch(`${checkoutUrl}/pay`, { method: 'POST', redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(SUCCESS_URL.replace('{CHECKOUT_SESSION_ID}', sessionId));
    // Every event of the purchase (customer.subscription.*, invoice.*, checkout.session.completed) was accepted.
    const delivered = t.fake.deliveries.filter((d) => t.fake.events.some((e) => e.id === d.eventId && JSON.stringify(e.data.object).includes(sessionId)));
    expect(delivered.length).toBeGreaterThan(0);
    expect(t.fake.deliveries.filter((d) => d.status !== 200)).toEqual([]);

    const status = await subscriptionStatus(t, user);
    expect(status).toMatchObject({ tier: 'pro', status: 'active', cancelAtPeriodEnd: false, graceEndsAt: null, usage: { used: 2, limit: 50 } });
    const periodEnd = Date.parse(status.currentPeriodEnd);
    expect(periodEnd - Date.now()).toBeGreaterThan(27 * 86_400_000);
    expect(await tierInDb(t, user.userId)).toBe('pro');
    const me = (await t.app.inject({ url: '/user/me', headers: user.auth })).json();
    expect(me).toMatchObject({ tier: 'pro', usage: { limit: 50 } });

    // The very next request sees Pro: the prompt refused a moment ago goes through.
    const accepted = await send(2);
    expect(accepted.statusCode).toBe(202);
    expect(accepted.headers['ratelimit-limit']).toBe('50');
    expect(accepted.json().quota).toMatchObject({ used: 3, limit: 50 });
  });
});

describe('POST /subscription/portal', () => {
  it('is 409 NO_BILLING_ACCOUNT before any checkout, then a Billing Portal link returning to the configured URL', async () => {
    const user = await signIn(t.app);
    expectProblem(await t.app.inject({ method: 'POST', url: '/subscription/portal', headers: user.auth }), 409, 'NO_BILLING_ACCOUNT');
    await subscribeAndPay(t, user);
    const res = await t.app.inject({ method: 'POST', url: '/subscription/portal', headers: user.auth });
    expect(res.statusCode).toBe(201);
    expect(res.json().url).toMatch(new RegExp(`^${t.fake.url}/p/session/bps_`));
    const request = stripeCalls(t.fake, 'POST', '/v1/billing_portal/sessions').at(-1);
    expect(request?.body).toMatchObject({ return_url: PORTAL_RETURN_URL });
  });
});

describe('without Stripe keys', () => {
  it('billing routes answer 503 BILLING_NOT_CONFIGURED and the status still works', async () => {
    const plain = await buildTestApp();
    try {
      const user = await signIn(plain.app);
      expectProblem(await plain.app.inject({ method: 'POST', url: '/subscribe/pro', headers: user.auth }), 503, 'BILLING_NOT_CONFIGURED');
      expectProblem(await plain.app.inject({ method: 'POST', url: '/subscription/portal', headers: user.auth }), 503, 'BILLING_NOT_CONFIGURED');
      const webhook = await plain.app.inject({ method: 'POST', url: '/webhook/stripe', payload: { id: 'evt_1' }, headers: { 'stripe-signature': 't=1,v1=00' } });
      expectProblem(webhook, 503, 'BILLING_NOT_CONFIGURED');
      const status = await plain.app.inject({ url: '/subscription/status', headers: user.auth });
      expect(status.json()).toMatchObject({ tier: 'basic', status: 'none', usage: { used: 0 } });
    } finally {
      await plain.close();
    }
  });
});
