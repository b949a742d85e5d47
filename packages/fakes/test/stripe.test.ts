// The fake Stripe, driven only through the real stripe-node SDK and plain HTTP (never a mock): the API
// calls a subscription integration makes, the hosted Checkout page, and webhooks verified with the SDK's
// own constructEvent.
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../src/stripe/index.js';
import { parseForm } from '../src/stripe/form-encoding.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './stripe-webhook-receiver.js';

const SECRET = 'whsec_test_fake_stripe_secret';
const PRICE = 'price_pro_monthly';
const SUCCESS_URL = 'http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}';
const CANCEL_URL = 'http://app.test/billing/cancel';

let fake: FakeStripe;
let receiver: WebhookReceiver;
let stripe: Stripe;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  fake = await startFakeStripe({ webhookUrl: receiver.url, webhookSecret: SECRET });
  stripe = new Stripe('sk_test_fake', { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries: 0, telemetry: false });
});
afterAll(async () => {
  await fake?.close();
  await receiver?.close();
});
beforeEach(async () => {
  await fake.webhooksIdle(); // a late delivery from the previous test must not land in this one's inbox
  fake.reset();
  receiver.clear();
  receiver.respondWith(200);
});

const verify = (webhook: ReceivedWebhook): Stripe.Event =>
  stripe.webhooks.constructEvent(webhook.rawBody, webhook.signature ?? '', SECRET);
const receivedTypes = () => receiver.received.map((webhook) => verify(webhook).type);
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function createCustomer() {
  return stripe.customers.create({ email: 'ada@example.test', metadata: { userId: 'user-42' } });
}

async function createSession(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  const customer = await createCustomer();
  return stripe.checkout.sessions.create({
    mode: 'subscription',
    line_items: [{ price: PRICE, quantity: 1 }],
    customer: customer.id,
    client_reference_id: 'user-42',
    metadata: { userId: 'user-42' },
    subscription_data: { metadata: { userId: 'user-42', plan: 'pro' } },
    success_url: SUCCESS_URL,
    cancel_url: CANCEL_URL,
    ...overrides,
  });
}

/** A paid subscription, with the receiver's inbox emptied afterwards. */
async function subscribed() {
  const session = await createSession();
  const { subscription } = await fake.completeCheckout(session.id);
  receiver.clear();
  return { session, subscriptionId: String(subscription?.id) };
}

async function expectStripeError(promise: Promise<unknown>, expected: Record<string, unknown>, type: new (...args: never[]) => Error) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  expect(err).toMatchObject(expected);
}

describe('API through the real SDK', () => {
  it('speaks the API version stripe@23 pins', async () => {
    expect(fake.apiVersion).toBe(Stripe.API_VERSION);
    await createCustomer();
    expect(fake.requests[0]?.stripeVersion).toBe(Stripe.API_VERSION);
  });

  it('creates, retrieves and lists customers, recording the decoded form body and Idempotency-Key', async () => {
    const created = await stripe.customers.create(
      { email: 'ada@example.test', name: 'Ada', metadata: { userId: 'user-42', tier: 'basic' } },
      { idempotencyKey: 'customer-user-42' },
    );
    expect(created).toMatchObject({
      object: 'customer',
      email: 'ada@example.test',
      name: 'Ada',
      metadata: { userId: 'user-42', tier: 'basic' },
      livemode: false,
    });
    expect(created.id).toMatch(/^cus_/);
    expect(Math.abs(created.created - nowSeconds())).toBeLessThan(5);

    const request = fake.requests[0];
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/customers',
      body: { email: 'ada@example.test', name: 'Ada', metadata: { userId: 'user-42', tier: 'basic' } },
      idempotencyKey: 'customer-user-42',
      status: 200,
    });
    expect(request?.headers.authorization).toBe('Bearer sk_test_fake');
    expect(request?.rawBody).toContain('metadata[userId]=user-42');

    expect(await stripe.customers.retrieve(created.id)).toMatchObject({ id: created.id, email: 'ada@example.test' });
    const other = await stripe.customers.create({ email: 'bob@example.test' });
    const byEmail = await stripe.customers.list({ email: 'ada@example.test' });
    expect(byEmail.data.map((c) => c.id)).toEqual([created.id]);
    const all = await stripe.customers.list({ limit: 1 });
    expect(all).toMatchObject({ object: 'list', has_more: true, url: '/v1/customers' });
    expect(all.data.map((c) => c.id)).toEqual([other.id]); // newest first
    const next = await stripe.customers.list({ limit: 1, starting_after: other.id });
    expect(next.data.map((c) => c.id)).toEqual([created.id]);
  });

  it('answers 401 in Stripe’s shape unless the key is sk_test_…', async () => {
    const live = new Stripe('sk_live_notallowed1234', { ...fake.stripeConfig, maxNetworkRetries: 0 });
    await expectStripeError(live.customers.list(), { statusCode: 401, type: 'StripeAuthenticationError' }, Stripe.errors.StripeAuthenticationError);
    const res = await fetch(`${fake.url}/v1/customers`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/You did not provide an API key/);
  });

  it('creates a subscription Checkout Session from bracket-encoded parameters', async () => {
    const session = await createSession({ locale: 'en', allow_promotion_codes: true });
    const request = fake.requests.find((r) => r.path === '/v1/checkout/sessions');
    expect(request?.body).toEqual({
      mode: 'subscription',
      line_items: [{ price: PRICE, quantity: '1' }],
      customer: session.customer,
      client_reference_id: 'user-42',
      metadata: { userId: 'user-42' },
      subscription_data: { metadata: { userId: 'user-42', plan: 'pro' } },
      success_url: SUCCESS_URL,
      cancel_url: CANCEL_URL,
      locale: 'en',
      allow_promotion_codes: 'true',
    });
    expect(request?.rawBody).toContain('line_items[0][price]=price_pro_monthly');
    // stripe-node 23 keys every POST, even with retries off.
    expect(request?.idempotencyKey).toMatch(/^stripe-node-retry-/);

    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'subscription',
      status: 'open',
      payment_status: 'unpaid',
      client_reference_id: 'user-42',
      metadata: { userId: 'user-42' },
      success_url: SUCCESS_URL,
      cancel_url: CANCEL_URL,
      subscription: null,
      amount_total: 1000,
      currency: 'usd',
      livemode: false,
      ui_mode: 'hosted_page',
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url).toBe(`${fake.url}/c/pay/${session.id}`);
    expect(session.expires_at - session.created).toBe(24 * 60 * 60);

    const retrieved = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items', 'customer'] });
    expect(retrieved.status).toBe('open');
    expect(retrieved.line_items?.data[0]).toMatchObject({ object: 'item', quantity: 1, price: { id: PRICE } });
    expect(retrieved.customer).toMatchObject({ object: 'customer', email: 'ada@example.test' });
  });

  it('reports errors as the SDK’s typed errors with Stripe’s codes', async () => {
    const { StripeInvalidRequestError } = Stripe.errors;
    await expectStripeError(
      stripe.customers.retrieve('cus_missing'),
      { statusCode: 404, code: 'resource_missing', param: 'id', message: "No such customer: 'cus_missing'" },
      StripeInvalidRequestError,
    );
    await expectStripeError(
      stripe.checkout.sessions.create({ line_items: [{ price: PRICE, quantity: 1 }], success_url: SUCCESS_URL }),
      { statusCode: 400, code: 'parameter_missing', param: 'mode' },
      StripeInvalidRequestError,
    );
    await expectStripeError(
      stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: 'price_nope', quantity: 1 }] }),
      { statusCode: 400, code: 'resource_missing', param: 'line_items[0][price]' },
      StripeInvalidRequestError,
    );
    await expectStripeError(
      stripe.checkout.sessions.create({ mode: 'subscription', line_items: [{ price: PRICE, quantity: 1 }], customer: 'cus_nope' }),
      { statusCode: 400, code: 'resource_missing', param: 'customer' },
      StripeInvalidRequestError,
    );
    await expectStripeError(
      stripe.customers.create({ emial: 'typo@example.test' } as Stripe.CustomerCreateParams),
      { statusCode: 400, code: 'parameter_unknown', param: 'emial' },
      StripeInvalidRequestError,
    );
    await expectStripeError(
      stripe.subscriptions.retrieve('sub_missing'),
      { statusCode: 404, code: 'resource_missing' },
      StripeInvalidRequestError,
    );
    await expectStripeError(stripe.prices.retrieve('price_missing'), { statusCode: 404, code: 'resource_missing' }, StripeInvalidRequestError);
  });

  it('replays an idempotent POST, refuses the key with other parameters, and does not save rejected ones', async () => {
    const first = await stripe.customers.create({ email: 'ada@example.test' }, { idempotencyKey: 'k-1' });
    const again = await stripe.customers.create({ email: 'ada@example.test' }, { idempotencyKey: 'k-1' });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect((await stripe.customers.list()).data).toHaveLength(1);
    await expectStripeError(
      stripe.customers.create({ email: 'bob@example.test' }, { idempotencyKey: 'k-1' }),
      { statusCode: 400, type: 'StripeIdempotencyError' },
      Stripe.errors.StripeIdempotencyError,
    );

    const params = { line_items: [{ price: PRICE, quantity: 1 }], customer: first.id, success_url: SUCCESS_URL };
    await expectStripeError(
      stripe.checkout.sessions.create(params, { idempotencyKey: 'k-2' }),
      { code: 'parameter_missing' },
      Stripe.errors.StripeInvalidRequestError,
    );
    const fixed = await stripe.checkout.sessions.create({ ...params, mode: 'subscription' }, { idempotencyKey: 'k-2' });
    expect(fixed.status).toBe('open');
  });

  it('serves prices and billing portal sessions', async () => {
    const price = await stripe.prices.retrieve(PRICE);
    expect(price).toMatchObject({ object: 'price', unit_amount: 1000, currency: 'usd', type: 'recurring', recurring: { interval: 'month', interval_count: 1 } });
    expect((await stripe.prices.list({ lookup_keys: ['pro_monthly'] })).data.map((p) => p.id)).toEqual([PRICE]);

    const { session } = await subscribed();
    const portal = await stripe.billingPortal.sessions.create({ customer: String(session.customer), return_url: 'http://app.test/account' });
    expect(portal).toMatchObject({ object: 'billing_portal.session', customer: session.customer, return_url: 'http://app.test/account', livemode: false });
    expect(portal.id).toMatch(/^bps_/);
    const page = await fetch(portal.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-testid="cancel-plan"');
    await expectStripeError(
      stripe.billingPortal.sessions.create({ customer: 'cus_nope' }),
      { statusCode: 400, code: 'resource_missing', param: 'customer' },
      Stripe.errors.StripeInvalidRequestError,
    );
  });

  it('serves events, invoices and expansions', async () => {
    const { session, subscriptionId } = await subscribed();
    const sub = await stripe.subscriptions.retrieve(subscriptionId, { expand: ['latest_invoice', 'customer', 'items.data.price.product'] });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ object: 'invoice', status: 'paid', customer: session.customer, total: 1000 });
    expect(invoice.lines.data[0]?.period.end).toBe(sub.items.data[0]?.current_period_end);
    expect(sub.customer).toMatchObject({ object: 'customer', id: session.customer });
    expect(sub.items.data[0]?.price.product).toMatchObject({ object: 'product', name: 'Pro' });
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
    await expectStripeError(
      stripe.subscriptions.retrieve(subscriptionId, { expand: ['status'] }),
      { statusCode: 400, message: 'This property cannot be expanded (status).' },
      Stripe.errors.StripeInvalidRequestError,
    );

    const completed = await stripe.events.list({ type: 'checkout.session.completed' });
    expect(completed.data).toHaveLength(1);
    const event = await stripe.events.retrieve(String(completed.data[0]?.id));
    expect(event).toMatchObject({ type: 'checkout.session.completed', data: { object: { id: session.id } } });
    expect((await stripe.events.list({ type: 'invoice.*' })).data.map((e) => e.type)).toEqual([
      'invoice.payment_succeeded',
      'invoice.paid',
      'invoice.finalized',
      'invoice.created',
    ]);
  });

  it('expires an open session (checkout.session.expired) and only an open one', async () => {
    const session = await createSession();
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ status: 'expired', url: null });
    await expectStripeError(stripe.checkout.sessions.expire(session.id), { statusCode: 400 }, Stripe.errors.StripeInvalidRequestError);
    await fake.webhooksIdle();
    expect(receivedTypes()).toEqual(['customer.created', 'checkout.session.expired']);
    expect((await fetch(session.url ?? '')).status).toBe(410);
  });
});

describe('form decoding', () => {
  it('decodes bracket keys into objects and arrays, keeping metadata a map', () => {
    expect(parseForm('a[b][c]=1&expand[]=x&expand[]=y&list[0][k]=v&list[1][k]=w&metadata[0]=zero&q=a+b%26c')).toEqual({
      a: { b: { c: '1' } },
      expand: ['x', 'y'],
      list: [{ k: 'v' }, { k: 'w' }],
      metadata: { 0: 'zero' },
      q: 'a b&c',
    });
    expect(parseForm('__proto__[polluted]=1&a[constructor]=2&bad[x=3')).toEqual({});
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('checkout page and webhooks', () => {
  it('serves the Checkout page; Pay delivers signed events in Stripe’s order and redirects to success_url', async () => {
    const session = await createSession();
    receiver.clear(); // customer.created from the setup
    const page = await fetch(session.url ?? '');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const pageHtml = await page.text();
    expect(pageHtml).toContain('$10.00 / month');
    expect(pageHtml).toContain(`action="/c/pay/${session.id}/pay"`);

    const paid = await fetch(`${fake.url}/c/pay/${session.id}/pay`, { method: 'POST', redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`http://app.test/billing/success?session_id=${session.id}`);

    const events = receiver.received.map(verify);
    expect(events.map((e) => e.type)).toEqual([
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
      'checkout.session.completed',
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ object: 'event', api_version: Stripe.API_VERSION, livemode: false, pending_webhooks: 1 });
      expect(event.id).toMatch(/^evt_/);
      expect(Math.abs(event.created - nowSeconds())).toBeLessThan(5);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(fake.deliveries.every((d) => d.status === 200 && d.ok && d.signing === 'valid')).toBe(true);

    const created = events[0] as Stripe.CustomerSubscriptionCreatedEvent;
    expect(created.data.object.status).toBe('incomplete');
    const activated = events[5] as Stripe.CustomerSubscriptionUpdatedEvent;
    expect(activated.data.object.status).toBe('active');
    expect(activated.data.previous_attributes).toEqual({ status: 'incomplete' });
    const invoicePaid = events[3] as Stripe.InvoicePaidEvent;
    expect(invoicePaid.data.object).toMatchObject({ status: 'paid', amount_paid: 1000, billing_reason: 'subscription_create' });
    const completed = events[6] as Stripe.CheckoutSessionCompletedEvent;
    expect(completed.data.object).toMatchObject({
      id: session.id,
      status: 'complete',
      payment_status: 'paid',
      client_reference_id: 'user-42',
      customer: session.customer,
      metadata: { userId: 'user-42' },
      url: null,
    });
    const subscriptionId = String(completed.data.object.subscription);
    expect(subscriptionId).toMatch(/^sub_/);
    expect(invoicePaid.data.object.parent?.subscription_details?.subscription).toBe(subscriptionId);

    const sub = await stripe.subscriptions.retrieve(subscriptionId);
    expect(sub).toMatchObject({ status: 'active', customer: session.customer, cancel_at_period_end: false, metadata: { userId: 'user-42', plan: 'pro' } });
    // API versions since 2025-03-31.basil carry the period on the items only.
    expect(sub).not.toHaveProperty('current_period_end');
    const item = sub.items.data[0];
    expect(item?.price.id).toBe(PRICE);
    const days = ((item?.current_period_end ?? 0) - (item?.current_period_start ?? 0)) / 86_400;
    expect(days).toBeGreaterThanOrEqual(28);
    expect(days).toBeLessThanOrEqual(31);
    expect(String(sub.latest_invoice)).toMatch(/^in_/);

    expect(await stripe.checkout.sessions.retrieve(session.id)).toMatchObject({ status: 'complete', subscription: subscriptionId, url: null });
    // A second click does not pay twice.
    const again = await fetch(`${fake.url}/c/pay/${session.id}/pay`, { method: 'POST', redirect: 'manual' });
    expect(again.status).toBe(303);
    expect((await stripe.subscriptions.list({ customer: String(session.customer) })).data).toHaveLength(1);
  });

  it('Cancel on the Checkout page returns to cancel_url and leaves the session open', async () => {
    const session = await createSession();
    const res = await fetch(`${fake.url}/c/pay/${session.id}/cancel`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(CANCEL_URL);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  });

  it('creates the customer during Checkout when only an email was given, and supports trials', async () => {
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: PRICE, quantity: 1 }],
      customer_email: 'new@example.test',
      subscription_data: { trial_period_days: 7 },
      success_url: SUCCESS_URL,
    });
    const result = await fake.completeCheckout(session.id);
    expect(result.events.map((e) => e.type)).toEqual([
      'customer.created',
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'checkout.session.completed',
    ]);
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription'] });
    expect(done.payment_status).toBe('no_payment_required');
    expect(String((await stripe.customers.retrieve(String(done.customer))).id)).toMatch(/^cus_/);
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe('trialing');
    expect(sub.trial_end).toBe(sub.items.data[0]?.current_period_end);
    expect((sub.trial_end ?? 0) - (sub.trial_start ?? 0)).toBe(7 * 86_400);
  });

  it('renews, fails a payment (past_due) and recovers, with the matching events', async () => {
    const { subscriptionId } = await subscribed();
    const before = await stripe.subscriptions.retrieve(subscriptionId);
    const oldEnd = before.items.data[0]?.current_period_end;

    const renewal = await fake.renewSubscription(subscriptionId);
    expect(renewal.events.map((e) => e.type)).toEqual([
      'customer.subscription.updated',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
    expect(receivedTypes()).toEqual(renewal.events.map((e) => e.type));
    const updated = verify(receiver.received[0] as ReceivedWebhook) as Stripe.CustomerSubscriptionUpdatedEvent;
    expect(updated.data.object.items.data[0]?.current_period_start).toBe(oldEnd);
    expect(updated.data.previous_attributes).toHaveProperty('items');
    const renewed = await stripe.subscriptions.retrieve(subscriptionId);
    expect(renewed.items.data[0]?.current_period_start).toBe(oldEnd);
    expect(renewed.status).toBe('active');

    receiver.clear();
    const failure = await fake.failPayment(subscriptionId);
    expect(failure.events.map((e) => e.type)).toEqual([
      'customer.subscription.updated',
      'invoice.created',
      'invoice.finalized',
      'invoice.payment_failed',
      'customer.subscription.updated',
    ]);
    const failed = failure.events[3]?.data.object as unknown as Stripe.Invoice;
    expect(failed).toMatchObject({ status: 'open', attempted: true, attempt_count: 1 });
    expect(failed.next_payment_attempt).not.toBeNull();
    expect(failure.events[4]?.data.previous_attributes).toEqual({ status: 'active' });
    expect((await stripe.subscriptions.retrieve(subscriptionId)).status).toBe('past_due');

    const recovery = await fake.renewSubscription(subscriptionId);
    expect(recovery.events.map((e) => e.type)).toEqual(['invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
    expect((await stripe.subscriptions.retrieve(subscriptionId)).status).toBe('active');
  });

  it('cancels at period end through the SDK, then ends the subscription at the period end', async () => {
    const { subscriptionId } = await subscribed();
    const updated = await stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true });
    const periodEnd = updated.items.data[0]?.current_period_end;
    expect(updated).toMatchObject({ status: 'active', cancel_at_period_end: true, cancel_at: periodEnd });
    expect(updated.cancellation_details?.reason).toBe('cancellation_requested');

    await fake.webhooksIdle(); // API-caused events go out after the response
    const event = verify(receiver.received[0] as ReceivedWebhook) as Stripe.CustomerSubscriptionUpdatedEvent;
    expect(event.type).toBe('customer.subscription.updated');
    expect(event.data.previous_attributes).toMatchObject({ cancel_at_period_end: false, cancel_at: null });
    expect(event.request).toEqual({ id: updated.lastResponse.requestId, idempotency_key: expect.stringMatching(/^stripe-node-retry-/) });

    receiver.clear();
    const ended = await fake.advanceToPeriodEnd(subscriptionId);
    expect(ended.events.map((e) => e.type)).toEqual(['customer.subscription.deleted']);
    const sub = await stripe.subscriptions.retrieve(subscriptionId);
    expect(sub).toMatchObject({ status: 'canceled', ended_at: periodEnd });
    expect(receivedTypes()).toEqual(['customer.subscription.deleted']);
  });

  it('cancels immediately with DELETE (customer.subscription.deleted); lists hide canceled ones by default', async () => {
    const { session, subscriptionId } = await subscribed();
    const canceled = await stripe.subscriptions.cancel(subscriptionId);
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: expect.any(Number), ended_at: expect.any(Number) });
    await fake.webhooksIdle();
    expect(receivedTypes()).toEqual(['customer.subscription.deleted']);
    expect((await stripe.subscriptions.list({ customer: String(session.customer) })).data).toHaveLength(0);
    expect((await stripe.subscriptions.list({ customer: String(session.customer), status: 'all' })).data).toHaveLength(1);
    await expectStripeError(
      stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true }),
      { statusCode: 400 },
      Stripe.errors.StripeInvalidRequestError,
    );
  });

  it('the portal’s Cancel plan button schedules the cancellation', async () => {
    const { session, subscriptionId } = await subscribed();
    const portal = await stripe.billingPortal.sessions.create({ customer: String(session.customer) });
    const res = await fetch(`${portal.url}/subscriptions/${subscriptionId}/cancel`, { method: 'POST', redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(receivedTypes()).toEqual(['customer.subscription.updated']);
    expect((await stripe.subscriptions.retrieve(subscriptionId)).cancel_at_period_end).toBe(true);
  });

  it('mis-signed deliveries fail the SDK’s verification, each for its own reason', async () => {
    const { session } = await subscribed();
    const completed = fake.events.find((e) => e.type === 'checkout.session.completed');
    expect(completed?.data.object.id).toBe(session.id);
    const cases = [
      ['wrong-secret', /No signatures found matching the expected signature/],
      ['stale-timestamp', /Timestamp outside the tolerance zone/],
      ['tampered-body', /No signatures found matching the expected signature/],
      ['no-signature', /No stripe-signature header value was provided/],
    ] as const;
    for (const [signing, message] of cases) {
      receiver.clear();
      const [delivery] = await fake.redeliverEvent(String(completed?.id), { signing });
      expect(delivery).toMatchObject({ signing, status: 200 });
      expect(() => verify(receiver.received[0] as ReceivedWebhook)).toThrow(message);
      expect(() => verify(receiver.received[0] as ReceivedWebhook)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    }

    // As a mode for every later delivery, until switched back.
    fake.setSigningMode('wrong-secret');
    receiver.clear();
    await fake.renewSubscription(String(completed?.data.object.subscription));
    expect(receiver.received.length).toBeGreaterThan(0);
    for (const webhook of receiver.received) expect(() => verify(webhook)).toThrow(Stripe.errors.StripeSignatureVerificationError);
    fake.setSigningMode('valid');
  });

  it('redelivers an event as a duplicate with the same id', async () => {
    await subscribed();
    const completed = fake.events.find((e) => e.type === 'checkout.session.completed');
    await fake.redeliverEvent(String(completed?.id));
    await fake.redeliverEvent(String(completed?.id));
    const events = receiver.received.map(verify);
    expect(events.map((e) => e.id)).toEqual([completed?.id, completed?.id]);
    expect(receiver.received[0]?.rawBody).toBe(receiver.received[1]?.rawBody);
  });

  it('holds events and releases them out of order; deliverEvents sends any order asked for', async () => {
    const session = await createSession();
    await fake.webhooksIdle();
    receiver.clear();
    fake.holdWebhooks();
    const { events } = await fake.completeCheckout(session.id);
    expect(receiver.received).toHaveLength(0);
    expect(fake.heldEvents.map((e) => e.id)).toEqual(events.map((e) => e.id));

    await fake.releaseWebhooks({ order: 'reverse' });
    expect(receiver.received.map((w) => verify(w).id)).toEqual(events.map((e) => e.id).reverse());
    expect(fake.holdingWebhooks).toBe(false);

    receiver.clear();
    const deleted = await fake.cancelSubscription(String(events[0]?.data.object.id), { atPeriodEnd: false });
    receiver.clear();
    const chosen = [String(deleted.events[0]?.id), String(events[0]?.id), String(events[6]?.id)];
    await fake.deliverEvents(chosen);
    expect(receiver.received.map((w) => verify(w).type)).toEqual([
      'customer.subscription.deleted',
      'customer.subscription.created',
      'checkout.session.completed',
    ]);
  });

  it('records the endpoint’s failures and retries a bounded number of times', async () => {
    const retrying = await startFakeStripe({ webhookUrl: receiver.url, webhookSecret: SECRET, maxDeliveryAttempts: 3, retryDelayMs: 5 });
    try {
      const client = new Stripe('sk_test_retry', { ...retrying.stripeConfig, maxNetworkRetries: 0 });
      receiver.respondWith(500);
      await client.customers.create({ email: 'x@example.test' });
      await retrying.webhooksIdle();
      expect(retrying.deliveries.map((d) => [d.type, d.attempt, d.status, d.ok])).toEqual([
        ['customer.created', 1, 500, false],
        ['customer.created', 2, 500, false],
        ['customer.created', 3, 500, false],
      ]);
      expect(retrying.deliveries[0]?.responseBody).toContain('rejected');
    } finally {
      await retrying.close();
    }
  });

  it('offers the same controls over HTTP under /__fake', async () => {
    const session = await createSession();
    const post = (path: string, body?: unknown) =>
      fetch(`${fake.url}/__fake${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    const completed = await post(`/checkout/sessions/${session.id}/complete`);
    expect(completed.status).toBe(200);
    const result = (await completed.json()) as { events: { id: string; type: string }[]; subscription: { id: string } };
    expect(result.events.at(-1)?.type).toBe('checkout.session.completed');

    expect((await post('/webhooks/signing', { mode: 'stale-timestamp' })).status).toBe(200);
    receiver.clear();
    const redelivered = await post(`/events/${result.events[0]?.id}/redeliver`);
    expect(((await redelivered.json()) as { deliveries: unknown[] }).deliveries).toHaveLength(1);
    expect(() => verify(receiver.received[0] as ReceivedWebhook)).toThrow(/tolerance/);
    await post('/webhooks/signing', { mode: 'valid' });

    expect((await post(`/subscriptions/${result.subscription.id}/cancel`, { atPeriodEnd: true })).status).toBe(200);
    const deliveries = (await (await fetch(`${fake.url}/__fake/deliveries`)).json()) as { data: { type: string }[] };
    expect(deliveries.data.at(-1)?.type).toBe('customer.subscription.updated');

    const missing = await post('/checkout/sessions/cs_test_missing/complete');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('resource_missing');
    expect((await post('/webhooks/signing', { mode: 'bogus' })).status).toBe(400);
  });

  it('close() ends kept-alive connections promptly', async () => {
    const other = await startFakeStripe({ webhookSecret: SECRET });
    const client = new Stripe('sk_test_close', { ...other.stripeConfig, maxNetworkRetries: 0 });
    await client.customers.create({ email: 'x@example.test' }); // leaves a pooled keep-alive socket
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`${other.url}/v1/customers`)).rejects.toThrow();
  });
});
