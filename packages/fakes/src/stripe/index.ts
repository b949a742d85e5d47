/**
 * A fake Stripe HTTP server for tests and offline development.
 *
 * Use:
 *   const fake = await startFakeStripe({ webhookUrl, webhookSecret: 'whsec_…' });
 *   const stripe = new Stripe('sk_test_anything', { ...fake.stripeConfig, maxNetworkRetries: 0 });
 *   // session.url → `${fake.url}/c/pay/<id>`: POST …/pay completes it, POST …/cancel goes to cancel_url.
 *
 * Objects follow API version 2026-10-28.endive (what stripe@23.1 pins). Since 2025-03-31.basil a
 * subscription's `current_period_start`/`current_period_end` exist only on its items
 * (`subscription.items.data[i]`), and an invoice reaches its subscription through
 * `invoice.parent.subscription_details.subscription`; this fake renders them there and nowhere else.
 *
 * Event sequences (each delivered in this order unless held or reordered):
 * - Checkout paid: [customer.created, when Checkout made the customer] customer.subscription.created
 *   (incomplete; trialing with a trial) → invoice.created → invoice.finalized → invoice.paid →
 *   invoice.payment_succeeded → customer.subscription.updated (→ active; none for a trial) →
 *   checkout.session.completed.
 * - Renewal: customer.subscription.updated (new period on the items) → invoice.created → invoice.finalized →
 *   invoice.paid → invoice.payment_succeeded. From past_due: invoice.paid → invoice.payment_succeeded →
 *   customer.subscription.updated (→ active).
 * - Payment failure: customer.subscription.updated (new period) → invoice.created → invoice.finalized →
 *   invoice.payment_failed → customer.subscription.updated (→ past_due); already past_due: invoice.payment_failed.
 * - Cancel at period end (API, portal or control): customer.subscription.updated (cancel_at_period_end);
 *   at the period end: customer.subscription.deleted. Cancel now (DELETE): customer.subscription.deleted.
 * - Session expired: checkout.session.expired. API-created customer: customer.created.
 *
 * HTTP controls (JSON), mirroring the FakeStripe methods: GET /__fake/requests | events[?type=] | deliveries |
 * webhooks; POST /__fake/reset; POST /__fake/checkout/sessions/:id/complete;
 * POST /__fake/subscriptions/:id/{renew,fail-payment,advance-period}; POST /__fake/subscriptions/:id/cancel
 * {atPeriodEnd}; POST /__fake/events/:id/redeliver {signing?}; POST /__fake/events/deliver {eventIds, signing?};
 * POST /__fake/webhooks/hold; POST /__fake/webhooks/release {order?: 'generated'|'reverse'|string[], signing?};
 * POST /__fake/webhooks/signing {mode}; POST /__fake/webhooks/endpoint {url, secret?}.
 * A slow or failing Stripe: POST /__fake/api/hold {method?, path?} parks matching API requests until
 * POST /__fake/api/release (GET /__fake/api/held lists them); POST /__fake/api/faults {method?, path?, status,
 * type?, code?, message?, times?, shouldRetry?} answers the next matching requests with that error.
 */
// Names are Stripe-specific because the package index re-exports this next to the fake Gemini.
export { startFakeStripe, DEFAULT_PRICES as DEFAULT_STRIPE_PRICES } from './fake-stripe.js';
export type { ApiFault as StripeApiFault, ApiMatch as StripeApiMatch } from './api-gate.js';
export type {
  FakeStripe,
  FakeStripeOptions,
  RecordedRequest as RecordedStripeRequest,
  ScenarioResult as StripeScenarioResult,
} from './fake-stripe.js';
export type {
  PriceSeed as StripePriceSeed,
  StripeEvent,
  SubscriptionStatus as StripeSubscriptionStatus,
  WireObject as StripeWireObject,
} from './billing-state.js';
export { SIGNING_MODES as WEBHOOK_SIGNING_MODES } from './webhook-dispatcher.js';
export type {
  ReleaseOrder as WebhookReleaseOrder,
  SigningMode as WebhookSigningMode,
  WebhookDelivery,
} from './webhook-dispatcher.js';
export { signatureHeader as stripeSignatureHeader } from './webhook-signature.js';
export { STRIPE_API_VERSION } from './wire-objects.js';
