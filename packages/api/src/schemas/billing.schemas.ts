import { Type, type Static } from 'typebox';
import { Nullable, Timestamp } from './common.schemas.js';
import { TierSchema, UsageSchema } from './user.schemas.js';

export const CheckoutSchema = Type.Object(
  {
    checkoutUrl: Type.String({ format: 'uri', description: 'The Stripe Checkout page: send the customer there to pay.' }),
    sessionId: Type.String({ description: 'The Stripe Checkout Session id (cs_…).', examples: ['cs_test_a1B2c3'] }),
  },
  { 'x-component-name': 'Checkout', additionalProperties: false },
);
export type Checkout = Static<typeof CheckoutSchema>;

export const SubscriptionStateSchema = Type.Union(
  [Type.Literal('none'), Type.Literal('active'), Type.Literal('trialing'), Type.Literal('past_due'), Type.Literal('canceled')],
  {
    description:
      'none: never subscribed (or the first payment never went through); active / trialing: Pro; past_due: a payment ' +
      'failed (or the invoice is unpaid): Pro lasts until graceEndsAt; canceled: ended (also paused, and a scheduled ' +
      'cancellation whose time has come).',
  },
);
export type SubscriptionState = Static<typeof SubscriptionStateSchema>;

export const SubscriptionStatusSchema = Type.Object(
  {
    tier: TierSchema,
    status: SubscriptionStateSchema,
    currentPeriodEnd: Nullable(Timestamp('End of the current billing period: the next renewal, or the end of a cancelled plan.')),
    cancelAtPeriodEnd: Type.Boolean({ description: 'True when the plan is set to end (at currentPeriodEnd) instead of renewing.' }),
    graceEndsAt: Nullable(Timestamp('While past_due: Pro lasts until then unless a payment succeeds.')),
    usage: UsageSchema,
  },
  { 'x-component-name': 'SubscriptionStatus', additionalProperties: false },
);
export type SubscriptionStatus = Static<typeof SubscriptionStatusSchema>;

export const BillingPortalSessionSchema = Type.Object(
  { url: Type.String({ format: 'uri', description: 'The Stripe Billing Portal: update the card, see invoices, cancel.' }) },
  { 'x-component-name': 'BillingPortalSession', additionalProperties: false },
);
export type BillingPortalSession = Static<typeof BillingPortalSessionSchema>;

export const StripeWebhookHeadersSchema = Type.Object({
  'stripe-signature': Type.Optional(Type.String({ description: 't=<unix seconds>,v1=<HMAC-SHA256 of "<t>.<raw body>">' })),
});

export const StripeEventBodySchema = Type.Unknown({
  description: 'A Stripe event, exactly as Stripe sent it: the signature covers these raw bytes.',
});

export const WebhookAckSchema = Type.Object(
  { received: Type.Literal(true) },
  { 'x-component-name': 'WebhookAck', additionalProperties: false },
);
export type WebhookAck = Static<typeof WebhookAckSchema>;
