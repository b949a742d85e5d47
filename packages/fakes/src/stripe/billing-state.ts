// The fake's memory: small typed records of what Stripe would hold. Wire objects are rendered from these on
// demand (wire-objects.ts), so the records only carry what changes behaviour.

export type Interval = 'day' | 'week' | 'month' | 'year';

export type SubscriptionStatus =
  | 'incomplete'
  | 'incomplete_expired'
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'canceled'
  | 'unpaid'
  | 'paused';

/** A JSON object as it goes over the wire. */
export type WireObject = { [key: string]: unknown };

/** A price the fake serves; seeded at start (Stripe prices are created in the dashboard, not by the app). */
export interface PriceSeed {
  id: string;
  /** Minor units (cents). */
  unitAmount: number;
  currency?: string;
  interval?: Interval;
  intervalCount?: number;
  productId?: string;
  productName?: string;
  nickname?: string | null;
  lookupKey?: string | null;
}

export interface PriceRecord {
  id: string;
  created: number;
  unitAmount: number;
  currency: string;
  interval: Interval;
  intervalCount: number;
  productId: string;
  nickname: string | null;
  lookupKey: string | null;
}

export interface ProductRecord {
  id: string;
  created: number;
  name: string;
  defaultPriceId: string;
}

export interface CustomerRecord {
  id: string;
  created: number;
  email: string | null;
  name: string | null;
  phone: string | null;
  description: string | null;
  metadata: Record<string, string>;
}

export interface LineItemRecord {
  id: string;
  priceId: string;
  quantity: number;
}

export interface CheckoutSessionRecord {
  id: string;
  created: number;
  expiresAt: number;
  status: 'open' | 'complete' | 'expired';
  paymentStatus: 'unpaid' | 'paid' | 'no_payment_required';
  customerId: string | null;
  /** Whether Checkout itself creates the customer on payment (no `customer` was passed). */
  createsCustomer: boolean;
  customerEmail: string | null;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  lineItems: LineItemRecord[];
  subscriptionMetadata: Record<string, string>;
  subscriptionDescription: string | null;
  trialPeriodDays: number | null;
  trialEnd: number | null;
  successUrl: string | null;
  cancelUrl: string | null;
  locale: string | null;
  subscriptionId: string | null;
  invoiceId: string | null;
  completedAt: number | null;
}

export interface SubscriptionItemRecord {
  id: string;
  created: number;
  priceId: string;
  quantity: number;
}

export interface SubscriptionRecord {
  id: string;
  created: number;
  startDate: number;
  customerId: string;
  status: SubscriptionStatus;
  items: SubscriptionItemRecord[];
  /**
   * The current billing period. Kept once here because every item of this fake's subscriptions shares it;
   * on the wire it is rendered on each subscription item, where API versions since 2025-03-31.basil put it.
   */
  currentPeriodStart: number;
  currentPeriodEnd: number;
  billingCycleAnchor: number;
  /** How many billing intervals after the anchor the current period ends (0 while in a trial). */
  periodsSinceAnchor: number;
  cancelAtPeriodEnd: boolean;
  cancelAt: number | null;
  canceledAt: number | null;
  endedAt: number | null;
  cancellation: { comment: string | null; feedback: string | null; reason: string | null };
  trialStart: number | null;
  trialEnd: number | null;
  metadata: Record<string, string>;
  description: string | null;
  latestInvoiceId: string | null;
  checkoutSessionId: string | null;
}

export interface InvoiceLineRecord {
  id: string;
  subscriptionItemId: string;
  priceId: string;
  quantity: number;
  amount: number;
  periodStart: number;
  periodEnd: number;
}

export interface InvoiceRecord {
  id: string;
  created: number;
  number: string;
  customerId: string;
  subscriptionId: string;
  billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update';
  status: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';
  currency: string;
  lines: InvoiceLineRecord[];
  total: number;
  amountPaid: number;
  attempted: boolean;
  attemptCount: number;
  nextPaymentAttempt: number | null;
  /** Stripe's invoice period is the *previous* period for renewals; the lines carry the service period. */
  periodStart: number;
  periodEnd: number;
  finalizedAt: number | null;
  paidAt: number | null;
}

export interface PortalSessionRecord {
  id: string;
  created: number;
  customerId: string;
  returnUrl: string | null;
  configurationId: string;
  locale: string | null;
}

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: WireObject; previous_attributes?: WireObject };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** Which API request caused a change, for `event.request`. Null for Stripe-initiated changes. */
export interface RequestOrigin {
  requestId: string;
  idempotencyKey: string | null;
}

export interface BillingState {
  prices: Map<string, PriceRecord>;
  products: Map<string, ProductRecord>;
  customers: Map<string, CustomerRecord>;
  checkoutSessions: Map<string, CheckoutSessionRecord>;
  subscriptions: Map<string, SubscriptionRecord>;
  invoices: Map<string, InvoiceRecord>;
  portalSessions: Map<string, PortalSessionRecord>;
  events: StripeEvent[];
  eventsById: Map<string, StripeEvent>;
  invoiceCounter: number;
}

export function createBillingState(): BillingState {
  return {
    prices: new Map(),
    products: new Map(),
    customers: new Map(),
    checkoutSessions: new Map(),
    subscriptions: new Map(),
    invoices: new Map(),
    portalSessions: new Map(),
    events: [],
    eventsById: new Map(),
    invoiceCounter: 0,
  };
}
