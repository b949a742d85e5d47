import { startFakeStripe, type FakeStripe, type RecordedStripeRequest } from '@gemini-chat/fakes';
import { buildTestApp, type SignedIn, type TestApp } from './app.js';

export const WEBHOOK_SECRET = 'whsec_test_billing_endpoint_secret';
export const PRO_PRICE = 'price_pro_monthly';
export const SUCCESS_URL = 'http://app.test/billing/success?session_id={CHECKOUT_SESSION_ID}';
export const CANCEL_URL = 'http://app.test/billing/cancel';
export const PORTAL_RETURN_URL = 'http://app.test/account';

export interface BillingTestApp extends TestApp {
  fake: FakeStripe;
}

/**
 * The real app on its own schema and Redis prefix, listening on a real port, and a real fake Stripe whose webhooks
 * reach that port: signatures are checked over the bytes that crossed the wire.
 */
export async function buildBillingTestApp(env: Record<string, string> = {}): Promise<BillingTestApp> {
  const fake = await startFakeStripe({ webhookSecret: WEBHOOK_SECRET });
  const t = await buildTestApp({
    STRIPE_SECRET_KEY: 'sk_test_billing_tests',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE_URL: fake.url,
    STRIPE_PRO_PRICE_ID: PRO_PRICE,
    BILLING_SUCCESS_URL: SUCCESS_URL,
    BILLING_CANCEL_URL: CANCEL_URL,
    BILLING_PORTAL_RETURN_URL: PORTAL_RETURN_URL,
    ...env,
  });
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  fake.setWebhookEndpoint({ url: `${address}/webhook/stripe` });
  return {
    ...t,
    fake,
    async close() {
      await fake.webhooksIdle();
      await fake.close();
      await t.close();
    },
  };
}

export async function subscribe(t: TestApp, user: SignedIn) {
  return t.app.inject({ method: 'POST', url: '/subscribe/pro', headers: user.auth });
}

export async function subscriptionStatus(t: TestApp, user: SignedIn) {
  const res = await t.app.inject({ url: '/subscription/status', headers: user.auth });
  if (res.statusCode !== 200) throw new Error(`status failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Subscribes and pays (as the Checkout page's Pay button does, webhooks delivered): the Stripe subscription id. */
export async function subscribeAndPay(t: BillingTestApp, user: SignedIn): Promise<{ sessionId: string; subscriptionId: string }> {
  const res = await subscribe(t, user);
  if (res.statusCode !== 201) throw new Error(`subscribe failed: ${res.statusCode} ${res.body}`);
  const { sessionId } = res.json() as { sessionId: string };
  const { subscription } = await t.fake.completeCheckout(sessionId);
  return { sessionId, subscriptionId: String(subscription?.id) };
}

/** The API calls the app made to (fake) Stripe, by method and path (`:id` matches one path segment). */
export function stripeCalls(fake: FakeStripe, method: string, path: string): RecordedStripeRequest[] {
  const pattern = new RegExp(`^${path.replace(/:id/g, '[^/]+')}$`);
  return fake.requests.filter((r) => r.method === method && pattern.test(r.path) && !r.replayed);
}

export async function tierInDb(t: TestApp, userId: string): Promise<string> {
  return (await t.db.selectFrom('users').select('tier').where('id', '=', userId).executeTakeFirstOrThrow()).tier;
}
