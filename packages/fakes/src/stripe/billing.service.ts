// What Stripe does to customers, Checkout Sessions, subscriptions and invoices, reduced to what a
// subscription integration observes: the state the API returns and the events, in the order Stripe emits
// them. Every operation returns the events it emitted; the caller decides when they are delivered.
import type {
  BillingState,
  CheckoutSessionRecord,
  CustomerRecord,
  InvoiceRecord,
  PortalSessionRecord,
  PriceRecord,
  PriceSeed,
  RequestOrigin,
  StripeEvent,
  SubscriptionRecord,
  SubscriptionStatus,
  WireObject,
} from './billing-state.js';
import { periodBoundary } from './billing-period.js';
import { ID_PREFIX, newId } from './ids.js';
import { applyMetadata } from './params.js';
import { invalidState, noSuchObject, noSuchReference, parameterInvalid } from './stripe-error.js';
import { STRIPE_API_VERSION, type Renderer } from './wire-objects.js';

const DAY = 86_400;
/** Checkout Sessions expire after 24 hours by default. */
const SESSION_LIFETIME = DAY;
/** When Smart Retries would try a failed renewal again. */
const RETRY_AFTER = 3 * DAY;

export interface BillingServiceOptions {
  state: BillingState;
  render: Renderer;
  /** Milliseconds, like Date.now(); injectable so tests can pin the clock. */
  now: () => number;
  /** `pending_webhooks` for a new event of this type (1 when an endpoint will receive it). */
  pendingWebhooks: (type: string) => number;
}

export interface CustomerInput {
  email?: string | null;
  name?: string | null;
  phone?: string | null;
  description?: string | null;
  metadata?: Map<string, string | null>;
}

export interface CheckoutSessionInput {
  customerId?: string;
  customerEmail?: string;
  clientReferenceId?: string;
  metadata?: Record<string, string>;
  lineItems: { priceId: string; quantity: number }[];
  subscriptionMetadata?: Record<string, string>;
  subscriptionDescription?: string;
  trialPeriodDays?: number;
  trialEnd?: number;
  successUrl?: string;
  cancelUrl?: string;
  locale?: string;
  expiresAt?: number;
}

export interface SubscriptionUpdateInput {
  cancelAtPeriodEnd?: boolean;
  /** null clears a scheduled cancellation. */
  cancelAt?: number | null;
  metadata?: Map<string, string | null>;
  description?: string | null;
  cancellationComment?: string | null;
  cancellationFeedback?: string | null;
}

export interface Outcome<T> {
  result: T;
  events: StripeEvent[];
}

export function createBillingService({ state, render, now, pendingWebhooks }: BillingServiceOptions) {
  const seconds = () => Math.floor(now() / 1000);

  function emit(events: StripeEvent[], type: string, object: WireObject, origin: RequestOrigin | null, previous?: WireObject) {
    const event: StripeEvent = {
      id: newId(ID_PREFIX.event),
      object: 'event',
      api_version: STRIPE_API_VERSION,
      created: seconds(),
      data: previous ? { object, previous_attributes: previous } : { object },
      livemode: false,
      pending_webhooks: pendingWebhooks(type),
      request: { id: origin?.requestId ?? null, idempotency_key: origin?.idempotencyKey ?? null },
      type,
    };
    state.events.push(event);
    state.eventsById.set(event.id, event);
    events.push(event);
  }

  /**
   * Runs a change to a subscription and, when anything visible changed, emits `customer.subscription.updated`
   * whose `previous_attributes` holds the old value of every top-level field that changed (for the period,
   * that is `items`, since the period lives on the items).
   */
  function updateSubscriptionWith(
    events: StripeEvent[],
    sub: SubscriptionRecord,
    origin: RequestOrigin | null,
    change: () => void,
  ): void {
    const before = render.subscription(sub);
    change();
    const after = render.subscription(sub);
    const previous = previousAttributes(before, after);
    if (previous) emit(events, 'customer.subscription.updated', after, origin, previous);
  }

  function priceFor(id: string): PriceRecord {
    const price = state.prices.get(id);
    if (!price) throw noSuchObject('price', id);
    return price;
  }

  function periodEndAfter(sub: SubscriptionRecord, periods: number): number {
    const first = sub.items[0];
    const price = first ? priceFor(first.priceId) : undefined;
    return periodBoundary(sub.billingCycleAnchor, price?.interval ?? 'month', price?.intervalCount ?? 1, periods);
  }

  function newInvoice(
    sub: SubscriptionRecord,
    billingReason: InvoiceRecord['billingReason'],
    period: { start: number; end: number },
    serviceStart: number,
    serviceEnd: number,
    free: boolean,
  ): InvoiceRecord {
    state.invoiceCounter += 1;
    const lines = sub.items.map((item) => {
      const price = priceFor(item.priceId);
      return {
        id: newId(ID_PREFIX.invoiceLine),
        subscriptionItemId: item.id,
        priceId: item.priceId,
        quantity: item.quantity,
        amount: free ? 0 : price.unitAmount * item.quantity,
        periodStart: serviceStart,
        periodEnd: serviceEnd,
      };
    });
    const first = sub.items[0];
    const invoice: InvoiceRecord = {
      id: newId(ID_PREFIX.invoice),
      created: seconds(),
      number: `FAKE-${String(state.invoiceCounter).padStart(4, '0')}`,
      customerId: sub.customerId,
      subscriptionId: sub.id,
      billingReason,
      status: 'draft',
      currency: first ? priceFor(first.priceId).currency : 'usd',
      lines,
      total: lines.reduce((sum, line) => sum + line.amount, 0),
      amountPaid: 0,
      attempted: false,
      attemptCount: 0,
      nextPaymentAttempt: null,
      periodStart: period.start,
      periodEnd: period.end,
      finalizedAt: null,
      paidAt: null,
    };
    state.invoices.set(invoice.id, invoice);
    sub.latestInvoiceId = invoice.id;
    return invoice;
  }

  /** draft → open (`invoice.created`, `invoice.finalized`), as Stripe does for automatic collection. */
  function createAndFinalize(events: StripeEvent[], invoice: InvoiceRecord): void {
    emit(events, 'invoice.created', render.invoice(invoice), null);
    invoice.status = 'open';
    invoice.finalizedAt = seconds();
    emit(events, 'invoice.finalized', render.invoice(invoice), null);
  }

  function payInvoice(events: StripeEvent[], invoice: InvoiceRecord): void {
    invoice.status = 'paid';
    invoice.attempted = true;
    if (invoice.total > 0) invoice.attemptCount += 1;
    invoice.amountPaid = invoice.total;
    invoice.paidAt = seconds();
    invoice.nextPaymentAttempt = null;
    emit(events, 'invoice.paid', render.invoice(invoice), null);
    emit(events, 'invoice.payment_succeeded', render.invoice(invoice), null);
  }

  function failInvoice(events: StripeEvent[], invoice: InvoiceRecord): void {
    invoice.attempted = true;
    invoice.attemptCount += 1;
    invoice.nextPaymentAttempt = seconds() + RETRY_AFTER;
    emit(events, 'invoice.payment_failed', render.invoice(invoice), null);
  }

  /** Moves a subscription into its next period and bills it (draft → open); payment is up to the caller. */
  function startNextPeriod(events: StripeEvent[], sub: SubscriptionRecord, status: SubscriptionStatus): InvoiceRecord {
    const previousPeriod = { start: sub.currentPeriodStart, end: sub.currentPeriodEnd };
    let invoice: InvoiceRecord | undefined;
    updateSubscriptionWith(events, sub, null, () => {
      sub.periodsSinceAnchor += 1;
      sub.currentPeriodStart = previousPeriod.end;
      sub.currentPeriodEnd = periodEndAfter(sub, sub.periodsSinceAnchor);
      sub.status = status;
      invoice = newInvoice(sub, 'subscription_cycle', previousPeriod, sub.currentPeriodStart, sub.currentPeriodEnd, false);
    });
    if (!invoice) throw new Error('unreachable: the period change always creates an invoice');
    createAndFinalize(events, invoice);
    return invoice;
  }

  function openLatestInvoice(sub: SubscriptionRecord): InvoiceRecord | undefined {
    const invoice = sub.latestInvoiceId ? state.invoices.get(sub.latestInvoiceId) : undefined;
    return invoice?.status === 'open' ? invoice : undefined;
  }

  function requireLive(sub: SubscriptionRecord, action: string): void {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
      throw invalidState(`Cannot ${action}: subscription ${sub.id} is ${sub.status}.`);
    }
    if (sub.status === 'incomplete') throw invalidState(`Cannot ${action}: subscription ${sub.id} is still incomplete.`);
  }

  /** Checkout without `customer` makes one from the email the payer gave (or a made-up one). */
  function checkoutCustomer(events: StripeEvent[], session: CheckoutSessionRecord): string {
    const email = session.customerEmail ?? `customer-${session.id.slice(-6).toLowerCase()}@example.test`;
    const created = service.createCustomer({ email }, null);
    events.push(...created.events);
    return created.result.id;
  }

  const service = {
    seedPrices(seeds: PriceSeed[]): void {
      const created = seconds();
      for (const seed of seeds) {
        const productId = seed.productId ?? `prod_${seed.id.replace(/^price_/, '')}`;
        state.prices.set(seed.id, {
          id: seed.id,
          created,
          unitAmount: seed.unitAmount,
          currency: (seed.currency ?? 'usd').toLowerCase(),
          interval: seed.interval ?? 'month',
          intervalCount: seed.intervalCount ?? 1,
          productId,
          nickname: seed.nickname ?? null,
          lookupKey: seed.lookupKey ?? null,
        });
        if (!state.products.has(productId)) {
          state.products.set(productId, { id: productId, created, name: seed.productName ?? 'Pro', defaultPriceId: seed.id });
        }
      }
    },

    customer(id: string, param?: string): CustomerRecord {
      const customer = state.customers.get(id);
      if (!customer) throw param ? noSuchReference('customer', id, param) : noSuchObject('customer', id);
      return customer;
    },

    subscription(id: string): SubscriptionRecord {
      const sub = state.subscriptions.get(id);
      if (!sub) throw noSuchObject('subscription', id);
      return sub;
    },

    checkoutSession(id: string): CheckoutSessionRecord {
      const session = state.checkoutSessions.get(id);
      if (!session) throw noSuchObject('checkout.session', id, 'session');
      return session;
    },

    price: priceFor,

    createCustomer(input: CustomerInput, origin: RequestOrigin | null): Outcome<CustomerRecord> {
      const events: StripeEvent[] = [];
      const customer: CustomerRecord = {
        id: newId(ID_PREFIX.customer, 14),
        created: seconds(),
        email: input.email ?? null,
        name: input.name ?? null,
        phone: input.phone ?? null,
        description: input.description ?? null,
        metadata: {},
      };
      customer.metadata = applyMetadata({}, input.metadata);
      state.customers.set(customer.id, customer);
      emit(events, 'customer.created', render.customer(customer), origin);
      return { result: customer, events };
    },

    updateCustomer(id: string, input: CustomerInput, origin: RequestOrigin | null): Outcome<CustomerRecord> {
      const customer = service.customer(id);
      const events: StripeEvent[] = [];
      const before = render.customer(customer);
      if (input.email !== undefined) customer.email = input.email;
      if (input.name !== undefined) customer.name = input.name;
      if (input.phone !== undefined) customer.phone = input.phone;
      if (input.description !== undefined) customer.description = input.description;
      customer.metadata = applyMetadata(customer.metadata, input.metadata);
      const after = render.customer(customer);
      const previous = previousAttributes(before, after);
      if (previous) emit(events, 'customer.updated', after, origin, previous);
      return { result: customer, events };
    },

    createCheckoutSession(input: CheckoutSessionInput): CheckoutSessionRecord {
      if (input.customerId) service.customer(input.customerId, 'customer');
      let interval: string | undefined;
      input.lineItems.forEach((item, i) => {
        const price = state.prices.get(item.priceId);
        if (!price) throw noSuchReference('price', item.priceId, `line_items[${i}][price]`);
        const key = `${price.interval}/${price.intervalCount}`;
        if (interval !== undefined && interval !== key) {
          throw parameterInvalid(`line_items[${i}][price]`, 'All prices on a subscription must have the same recurring interval and interval_count.');
        }
        interval = key;
      });
      const created = seconds();
      if (input.expiresAt !== undefined && (input.expiresAt < created + 30 * 60 || input.expiresAt > created + SESSION_LIFETIME)) {
        throw parameterInvalid('expires_at', 'The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.');
      }
      const session: CheckoutSessionRecord = {
        id: newId(ID_PREFIX.checkoutSession, 58),
        created,
        expiresAt: input.expiresAt ?? created + SESSION_LIFETIME,
        status: 'open',
        paymentStatus: 'unpaid',
        customerId: input.customerId ?? null,
        createsCustomer: !input.customerId,
        customerEmail: input.customerEmail ?? null,
        clientReferenceId: input.clientReferenceId ?? null,
        metadata: input.metadata ?? {},
        lineItems: input.lineItems.map((item) => ({ id: newId(ID_PREFIX.checkoutLineItem), ...item })),
        subscriptionMetadata: input.subscriptionMetadata ?? {},
        subscriptionDescription: input.subscriptionDescription ?? null,
        trialPeriodDays: input.trialPeriodDays ?? null,
        trialEnd: input.trialEnd ?? null,
        successUrl: input.successUrl ?? null,
        cancelUrl: input.cancelUrl ?? null,
        locale: input.locale ?? null,
        subscriptionId: null,
        invoiceId: null,
        completedAt: null,
      };
      state.checkoutSessions.set(session.id, session);
      return session;
    },

    expireCheckoutSession(id: string, origin: RequestOrigin | null): Outcome<CheckoutSessionRecord> {
      const session = service.checkoutSession(id);
      if (session.status !== 'open') {
        throw invalidState(
          `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
        );
      }
      const events: StripeEvent[] = [];
      session.status = 'expired';
      emit(events, 'checkout.session.expired', render.checkoutSession(session), origin);
      return { result: session, events };
    },

    /**
     * The customer pays on the Checkout page. Events, in Stripe's order for a card payment:
     * [customer.created] → customer.subscription.created (incomplete, or trialing) → invoice.created →
     * invoice.finalized → invoice.paid → invoice.payment_succeeded → customer.subscription.updated
     * (incomplete → active; not sent for a trial) → checkout.session.completed.
     */
    completeCheckout(id: string): Outcome<{ session: CheckoutSessionRecord; subscription: SubscriptionRecord }> {
      const session = service.checkoutSession(id);
      if (session.status !== 'open') throw invalidState(`Checkout Session ${id} is ${session.status}, not open.`);
      const events: StripeEvent[] = [];
      const t = seconds();

      const customerId = session.customerId || checkoutCustomer(events, session);

      const trialEnd = session.trialEnd ?? (session.trialPeriodDays ? t + session.trialPeriodDays * DAY : null);
      const sub = subscriptionFromCheckout(session, customerId, t, trialEnd);
      sub.currentPeriodEnd = trialEnd ?? periodEndAfter(sub, 1);
      state.subscriptions.set(sub.id, sub);
      const invoice = newInvoice(sub, 'subscription_create', { start: t, end: t }, t, sub.currentPeriodEnd, Boolean(trialEnd));

      emit(events, 'customer.subscription.created', render.subscription(sub), null);
      createAndFinalize(events, invoice);
      payInvoice(events, invoice);
      if (!trialEnd) {
        updateSubscriptionWith(events, sub, null, () => {
          sub.status = 'active';
        });
      }

      session.status = 'complete';
      session.paymentStatus = trialEnd ? 'no_payment_required' : 'paid';
      session.customerId = customerId;
      session.subscriptionId = sub.id;
      session.invoiceId = invoice.id;
      session.completedAt = t;
      emit(events, 'checkout.session.completed', render.checkoutSession(session), null);
      return { result: { session, subscription: sub }, events };
    },

    /**
     * A successful billing cycle. From active or trialing: customer.subscription.updated (new period on the
     * items, latest_invoice; trialing → active) → invoice.created → invoice.finalized → invoice.paid →
     * invoice.payment_succeeded. From past_due with an open invoice, the retry succeeds instead:
     * invoice.paid → invoice.payment_succeeded → customer.subscription.updated (past_due → active).
     */
    renewSubscription(id: string): Outcome<SubscriptionRecord> {
      const sub = service.subscription(id);
      requireLive(sub, 'renew');
      const events: StripeEvent[] = [];
      const open = openLatestInvoice(sub);
      if (sub.status === 'past_due' && open) {
        payInvoice(events, open);
        updateSubscriptionWith(events, sub, null, () => {
          sub.status = 'active';
        });
        return { result: sub, events };
      }
      if (sub.cancelAtPeriodEnd || sub.cancelAt !== null) {
        throw invalidState(`Subscription ${id} is scheduled to cancel; advance it to its period end instead of renewing.`);
      }
      const invoice = startNextPeriod(events, sub, 'active');
      payInvoice(events, invoice);
      return { result: sub, events };
    },

    /**
     * A failed charge. From active or trialing the next period starts and its invoice fails:
     * customer.subscription.updated (new period) → invoice.created → invoice.finalized →
     * invoice.payment_failed → customer.subscription.updated (→ past_due). Already past_due: the retry of the
     * open invoice fails (invoice.payment_failed only, attempt_count + 1).
     */
    failPayment(id: string): Outcome<SubscriptionRecord> {
      const sub = service.subscription(id);
      requireLive(sub, 'fail a payment on');
      const events: StripeEvent[] = [];
      const open = openLatestInvoice(sub);
      if (sub.status === 'past_due' && open) {
        failInvoice(events, open);
        return { result: sub, events };
      }
      const invoice = startNextPeriod(events, sub, sub.status === 'trialing' ? 'active' : sub.status);
      failInvoice(events, invoice);
      updateSubscriptionWith(events, sub, null, () => {
        sub.status = 'past_due';
      });
      return { result: sub, events };
    },

    /** `POST /v1/subscriptions/:id` (and the portal's cancel/renew buttons): customer.subscription.updated. */
    updateSubscription(id: string, input: SubscriptionUpdateInput, origin: RequestOrigin | null): Outcome<SubscriptionRecord> {
      const sub = service.subscription(id);
      const touchesLifecycle = input.cancelAtPeriodEnd !== undefined || input.cancelAt !== undefined || input.description !== undefined;
      if (sub.status === 'canceled' && touchesLifecycle) {
        throw invalidState('A canceled subscription can only update its cancellation_details and metadata.');
      }
      const events: StripeEvent[] = [];
      const t = seconds();
      updateSubscriptionWith(events, sub, origin, () => applySubscriptionUpdate(sub, input, t));
      return { result: sub, events };
    },

    /** `DELETE /v1/subscriptions/:id`: ends it now; customer.subscription.deleted. */
    cancelSubscriptionNow(
      id: string,
      input: { comment?: string | null; feedback?: string | null },
      origin: RequestOrigin | null,
    ): Outcome<SubscriptionRecord> {
      const sub = service.subscription(id);
      if (sub.status === 'canceled') throw invalidState(`Subscription ${id} has already been canceled.`);
      const events: StripeEvent[] = [];
      const t = seconds();
      sub.status = 'canceled';
      sub.canceledAt = t;
      sub.endedAt = t;
      sub.cancellation = {
        comment: input.comment ?? sub.cancellation.comment,
        feedback: input.feedback ?? sub.cancellation.feedback,
        reason: 'cancellation_requested',
      };
      const open = openLatestInvoice(sub);
      if (open) open.nextPaymentAttempt = null; // a canceled subscription stops retrying its last invoice
      emit(events, 'customer.subscription.deleted', render.subscription(sub), origin);
      return { result: sub, events };
    },

    /**
     * The period boundary, as a test clock would reach it: a subscription scheduled to cancel ends
     * (customer.subscription.deleted, ended_at = the scheduled time); any other renews (see renewSubscription).
     */
    advanceToPeriodEnd(id: string): Outcome<SubscriptionRecord> {
      const sub = service.subscription(id);
      requireLive(sub, 'advance');
      if (sub.cancelAt !== null && sub.cancelAt <= sub.currentPeriodEnd) {
        const events: StripeEvent[] = [];
        sub.status = 'canceled';
        sub.endedAt = sub.cancelAt;
        emit(events, 'customer.subscription.deleted', render.subscription(sub), null);
        return { result: sub, events };
      }
      return service.renewSubscription(id);
    },

    createPortalSession(input: { customerId: string; returnUrl?: string; locale?: string; configuration?: string }): PortalSessionRecord {
      service.customer(input.customerId, 'customer');
      const portal: PortalSessionRecord = {
        id: newId(ID_PREFIX.portalSession),
        created: seconds(),
        customerId: input.customerId,
        returnUrl: input.returnUrl ?? null,
        configurationId: input.configuration ?? 'bpc_fake_default',
        locale: input.locale ?? null,
      };
      state.portalSessions.set(portal.id, portal);
      return portal;
    },

    portalSession(id: string): PortalSessionRecord {
      const portal = state.portalSessions.get(id);
      if (!portal) throw noSuchObject('billing_portal.session', id);
      return portal;
    },

    /** Forgets everything the app created; seeded prices and products stay. */
    reset(): void {
      state.customers.clear();
      state.checkoutSessions.clear();
      state.subscriptions.clear();
      state.invoices.clear();
      state.portalSessions.clear();
      state.events.length = 0;
      state.eventsById.clear();
      state.invoiceCounter = 0;
    },
  };
  return service;
}
export type BillingService = ReturnType<typeof createBillingService>;

/** The field changes of `POST /v1/subscriptions/:id`; a cancellation already scheduled for that time is left as it was. */
function applySubscriptionUpdate(sub: SubscriptionRecord, input: SubscriptionUpdateInput, t: number): void {
  const scheduling = input.cancelAtPeriodEnd === true || (input.cancelAt !== undefined && input.cancelAt !== null);
  const unscheduling = input.cancelAtPeriodEnd === false || input.cancelAt === null;
  if (scheduling) {
    const at = input.cancelAtPeriodEnd ? sub.currentPeriodEnd : (input.cancelAt as number);
    if (at !== sub.cancelAt) scheduleCancellation(sub, at, t);
  } else if (unscheduling && sub.cancelAt !== null) {
    clearScheduledCancellation(sub);
  }
  sub.metadata = applyMetadata(sub.metadata, input.metadata);
  if (input.description !== undefined) sub.description = input.description;
  if (input.cancellationComment !== undefined) sub.cancellation = { ...sub.cancellation, comment: input.cancellationComment };
  if (input.cancellationFeedback !== undefined) sub.cancellation = { ...sub.cancellation, feedback: input.cancellationFeedback };
}

function scheduleCancellation(sub: SubscriptionRecord, at: number, requestedAt: number): void {
  sub.cancelAt = at;
  sub.cancelAtPeriodEnd = at === sub.currentPeriodEnd;
  sub.canceledAt = requestedAt;
  sub.cancellation = { ...sub.cancellation, reason: 'cancellation_requested' };
}

/** Undoing a scheduled cancellation also forgets why it was asked for. */
function clearScheduledCancellation(sub: SubscriptionRecord): void {
  sub.cancelAt = null;
  sub.cancelAtPeriodEnd = false;
  sub.canceledAt = null;
  sub.cancellation = { comment: null, feedback: null, reason: null };
}

/**
 * The subscription a paid Checkout Session starts: incomplete until its first invoice is paid, or trialing.
 * The period end is left at `t` for the caller, which knows the prices.
 */
function subscriptionFromCheckout(session: CheckoutSessionRecord, customerId: string, t: number, trialEnd: number | null): SubscriptionRecord {
  return {
    id: newId(ID_PREFIX.subscription),
    created: t,
    startDate: t,
    customerId,
    status: trialEnd ? 'trialing' : 'incomplete',
    items: session.lineItems.map((item) => ({
      id: newId(ID_PREFIX.subscriptionItem, 14),
      created: t,
      priceId: item.priceId,
      quantity: item.quantity,
    })),
    currentPeriodStart: t,
    currentPeriodEnd: t,
    billingCycleAnchor: trialEnd ?? t,
    periodsSinceAnchor: trialEnd ? 0 : 1,
    cancelAtPeriodEnd: false,
    cancelAt: null,
    canceledAt: null,
    endedAt: null,
    cancellation: { comment: null, feedback: null, reason: null },
    trialStart: trialEnd ? t : null,
    trialEnd,
    metadata: { ...session.subscriptionMetadata },
    description: session.subscriptionDescription,
    latestInvoiceId: null,
    checkoutSessionId: session.id,
  };
}

/** Stripe's `previous_attributes`: the old value of each top-level field that changed; undefined if none did. */
function previousAttributes(before: WireObject, after: WireObject): WireObject | undefined {
  const previous: WireObject = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key];
  }
  return Object.keys(previous).length > 0 ? previous : undefined;
}
