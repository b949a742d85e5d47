import { startFakeStripe, STRIPE_API_VERSION, stripeSignatureHeader, type FakeStripe } from '@gemini-chat/fakes';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, freePort, isolate, PRO_PRICE, signIn, WEBHOOK_SECRET, type Isolated, type SignedIn } from '@gemini-chat/testkit';
import { buildApp } from '../../src/app.js';
import { errorsPlugin } from '../../src/plugins/errors.plugin.js';

// What Stripe says to us is not for our clients: a request Stripe refuses (bad price, wrong key, missing
// permission) is our misconfiguration, a generic 500 with the details in our log only; Stripe down, slow or
// rate-limiting us is a 503 with Retry-After. Never a 401: clients take that for their own expired token.

const GOOD_KEY = 'sk_test_billing_tests';

interface StripeTestApp extends Isolated {
  app: FastifyInstance;
  fake: FakeStripe;
  /** What the app logged at warn and above, one JSON line each. */
  logs: string[];
  close(): Promise<void>;
}

async function appWith(env: Record<string, string>): Promise<StripeTestApp> {
  const fake = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  const isolated = await isolate({
    STRIPE_SECRET_KEY: GOOD_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE_URL: fake.url,
    STRIPE_PRO_PRICE_ID: PRO_PRICE,
    ...env,
  });
  const logs: string[] = [];
  const app = await buildApp({ config: isolated.config, logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } } });
  await app.ready();
  return {
    ...isolated,
    app,
    fake,
    logs,
    async close() {
      await app.close();
      await fake.close();
      await isolated.cleanup();
    },
  };
}

const subscribe = (t: StripeTestApp, user: SignedIn) => t.app.inject({ method: 'POST', url: '/subscribe/pro', headers: user.auth });
const portal = (t: StripeTestApp, user: SignedIn) => t.app.inject({ method: 'POST', url: '/subscription/portal', headers: user.auth });

async function withCustomer(t: StripeTestApp, user: SignedIn): Promise<void> {
  await t.db.updateTable('users').set({ stripe_customer_id: `cus_test_${user.userId.slice(0, 8)}` }).where('id', '=', user.userId).execute();
}

function expectInternal(res: LightMyRequestResponse, ...secrets: string[]) {
  const body = expectProblem(res, 500, 'INTERNAL_ERROR');
  expect(res.headers['retry-after']).toBeUndefined();
  for (const secret of ['stripe', 'sk_', 'No such', 'API Key', 'permission', ...secrets]) {
    expect(res.body.toLowerCase()).not.toContain(secret.toLowerCase());
  }
  return body;
}

function expectOutage(res: LightMyRequestResponse) {
  expectProblem(res, 503, 'SERVICE_UNAVAILABLE');
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(res.body.toLowerCase()).not.toMatch(/stripe|econnrefused|127\.0\.0\.1|rate limit|too many/);
}

/** A signed customer.subscription.updated delivery, as Stripe would post it. */
function signedEvent(id: string) {
  const created = Math.floor(Date.now() / 1000);
  const payload = JSON.stringify({
    id,
    object: 'event',
    api_version: STRIPE_API_VERSION,
    created,
    data: { object: { id: `sub_test_${id}`, object: 'subscription', status: 'active' } },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: 'customer.subscription.updated',
  });
  return {
    method: 'POST' as const,
    url: '/webhook/stripe',
    payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': stripeSignatureHeader(payload, WEBHOOK_SECRET, created) },
  };
}

describe('a price Stripe does not know (misconfigured STRIPE_PRO_PRICE_ID)', () => {
  const MISSING_PRICE = 'price_missing_from_this_account';
  let t: StripeTestApp;
  beforeAll(async () => {
    t = await appWith({ STRIPE_PRO_PRICE_ID: MISSING_PRICE });
  });
  afterAll(() => t.close());

  it('answers a generic 500 naming neither the price nor Stripe\'s message, and logs the detail', async () => {
    const user = await signIn(t.app);
    const res = await subscribe(t, user);
    const body = expectInternal(res, MISSING_PRICE);
    // The real SDK asked the fake, which refused the price.
    const refused = t.fake.requests.find((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
    expect(refused?.status).toBe(400);
    // The operator can find out why from the log line carrying the client's requestId.
    const line = t.logs.find((l) => l.includes(body.requestId) && l.includes('No such price'));
    expect(line).toBeDefined();
    expect(line).toContain(MISSING_PRICE);
  });
});

describe('an API key Stripe refuses', () => {
  let t: StripeTestApp;
  beforeAll(async () => {
    t = await appWith({ STRIPE_SECRET_KEY: 'sk_revoked_0123456789abcdefghij' });
  });
  afterAll(() => t.close());

  it('is a 500 on POST /subscribe/pro, never a 401 the client would take for its own token', async () => {
    const user = await signIn(t.app);
    const res = await subscribe(t, user);
    expect(res.statusCode).not.toBe(401);
    expectInternal(res, '0123456789', 'revoked');
    expect(t.fake.requests.at(-1)?.status).toBe(401);
    // The caller's own token is fine and still works.
    expect((await t.app.inject({ url: '/user/me', headers: user.auth })).statusCode).toBe(200);
  });

  it('is a 500 on POST /subscription/portal too', async () => {
    const user = await signIn(t.app);
    await withCustomer(t, user);
    expectInternal(await portal(t, user), '0123456789', 'revoked');
  });

  it('is a 500 on the webhook (Stripe delivers again later) and records nothing', async () => {
    const res = await t.app.inject(signedEvent('evt_test_refused_key'));
    expectInternal(res, '0123456789', 'revoked');
    expect(await t.db.selectFrom('stripe_event').selectAll().execute()).toEqual([]);
  });
});

describe('Stripe refusing or failing a request', () => {
  let t: StripeTestApp;
  beforeAll(async () => {
    t = await appWith({});
  });
  afterAll(() => t.close());

  it('a permission error (a restricted key without access) is a 500, not a 403', async () => {
    const user = await signIn(t.app);
    t.fake.failApi({ method: 'POST', path: '/v1/customers', status: 403 });
    expectInternal(await subscribe(t, user));
  });

  it('a card error on a call of ours is a 500, not a 402', async () => {
    const user = await signIn(t.app);
    await withCustomer(t, user);
    t.fake.failApi({ method: 'POST', path: '/v1/billing_portal/sessions', status: 402, type: 'card_error', code: 'card_declined', message: 'Your card was declined.' });
    expectInternal(await portal(t, user), 'card', 'declined');
  });

  it('Stripe\'s own 5xx is a 503 with Retry-After', async () => {
    const user = await signIn(t.app);
    t.fake.failApi({ method: 'POST', path: '/v1/customers', status: 500, shouldRetry: false });
    expectOutage(await subscribe(t, user));
  });

  it('a rate limit is a 503 with Retry-After', async () => {
    const user = await signIn(t.app);
    t.fake.failApi({ method: 'POST', path: '/v1/customers', status: 429, code: 'rate_limit', shouldRetry: false });
    expectOutage(await subscribe(t, user));
  });

  it('an idempotency key still in use after the SDK\'s retries is a 503: the same call succeeds shortly after', async () => {
    const user = await signIn(t.app);
    t.fake.failApi({ method: 'POST', path: '/v1/customers', status: 409, type: 'idempotency_error', code: 'idempotency_key_in_use', shouldRetry: false });
    expectOutage(await subscribe(t, user));
    expect((await subscribe(t, user)).statusCode).toBe(201);
  });
});

describe('Stripe unreachable', () => {
  let t: StripeTestApp;
  beforeAll(async () => {
    t = await appWith({ STRIPE_API_BASE_URL: `http://127.0.0.1:${await freePort()}` });
  });
  afterAll(() => t.close());

  it('POST /subscribe/pro and POST /subscription/portal answer 503 with Retry-After', async () => {
    const user = await signIn(t.app);
    expectOutage(await subscribe(t, user));
    await withCustomer(t, user);
    expectOutage(await portal(t, user));
  });

  it('the webhook answers 503 and records nothing, so Stripe delivers the event again', async () => {
    expectOutage(await t.app.inject(signedEvent('evt_test_unreachable')));
    expect(await t.db.selectFrom('stripe_event').selectAll().execute()).toEqual([]);
  });
});

describe('a Stripe error that no service translated', () => {
  it('still reaches the client as a 500 or a 503, never with Stripe\'s status or text', async () => {
    const fake = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
    const app = Fastify({ logger: false });
    await app.register(errorsPlugin);
    // Straight SDK calls, as a new service might make them by mistake.
    const stripe = (key: string) => new Stripe(key, { ...fake.stripeConfig, maxNetworkRetries: 0 });
    app.post('/refused-key', async () => stripe('sk_revoked_0123456789abcdefghij').customers.create({}));
    app.post('/missing-price', async () =>
      stripe(GOOD_KEY).checkout.sessions.create({ mode: 'subscription', line_items: [{ price: 'price_nowhere', quantity: 1 }], success_url: 'http://app.test/ok' }),
    );
    app.post('/outage', async () => stripe(GOOD_KEY).customers.create({}));
    await app.ready();
    try {
      const refused = await app.inject({ method: 'POST', url: '/refused-key' });
      expect(refused.statusCode).not.toBe(401);
      expectInternal(refused, '0123456789', 'revoked');
      expectInternal(await app.inject({ method: 'POST', url: '/missing-price' }), 'price_nowhere');
      fake.failApi({ method: 'POST', path: '/v1/customers', status: 503 });
      expectOutage(await app.inject({ method: 'POST', url: '/outage' }));
    } finally {
      await app.close();
      await fake.close();
    }
  });
});

