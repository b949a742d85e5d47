// Renders the fake's records as Stripe JSON for the API version stripe@23 pins. Field names and nesting
// follow that version's objects; fields a subscription integration never reads are present with Stripe's
// neutral values (null, [], false) so code that touches them sees the real types.
import type {
  BillingState,
  CheckoutSessionRecord,
  CustomerRecord,
  InvoiceRecord,
  PortalSessionRecord,
  PriceRecord,
  ProductRecord,
  SubscriptionItemRecord,
  SubscriptionRecord,
  WireObject,
} from './billing-state.js';
import { invalidState } from './stripe-error.js';

/** The version stripe-node 23.1 sends in `Stripe-Version`; event `api_version` and object shapes follow it. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export interface RenderContext {
  state: BillingState;
  /** Base URL the hosted pages are reachable at (`url` fields). */
  publicUrl(): string;
}

export function list(data: WireObject[], url: string, hasMore = false): WireObject {
  return { object: 'list', data, has_more: hasMore, url };
}

export function renderCustomer(customer: CustomerRecord): WireObject {
  return {
    id: customer.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: customer.created,
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: customer.description,
    discount: null,
    email: customer.email,
    invoice_prefix: customer.id.slice(4, 12).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: { ...customer.metadata },
    name: customer.name,
    next_invoice_sequence: 1,
    phone: customer.phone,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function renderProduct(product: ProductRecord): WireObject {
  return {
    id: product.id,
    object: 'product',
    active: true,
    created: product.created,
    default_price: product.defaultPriceId,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name: product.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: product.created,
    url: null,
  };
}

export function renderPrice(price: PriceRecord): WireObject {
  return {
    id: price.id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: price.lookupKey,
    metadata: {},
    nickname: price.nickname,
    product: price.productId,
    recurring: {
      interval: price.interval,
      interval_count: price.intervalCount,
      meter: null,
      trial_period_days: null,
      usage_type: 'licensed',
    },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: price.unitAmount,
    // A decimal string on the wire; stripe-node 23 turns it into its Decimal type on the way in.
    unit_amount_decimal: String(price.unitAmount),
  };
}

/** The legacy `plan` view of a recurring price that subscription items still carry. */
function renderPlan(price: PriceRecord): WireObject {
  return {
    id: price.id,
    object: 'plan',
    active: true,
    amount: price.unitAmount,
    amount_decimal: String(price.unitAmount),
    billing_scheme: 'per_unit',
    created: price.created,
    currency: price.currency,
    interval: price.interval,
    interval_count: price.intervalCount,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: price.nickname,
    product: price.productId,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

export function createRenderer(ctx: RenderContext) {
  const { state } = ctx;

  const priceOf = (id: string): PriceRecord => {
    const price = state.prices.get(id);
    if (!price) throw new Error(`fake stripe: price ${id} vanished`); // prices are never deleted
    return price;
  };

  function renderSubscriptionItem(sub: SubscriptionRecord, item: SubscriptionItemRecord): WireObject {
    const price = priceOf(item.priceId);
    return {
      id: item.id,
      object: 'subscription_item',
      billing_thresholds: null,
      created: item.created,
      // Since API version 2025-03-31.basil the period lives here, not on the subscription.
      current_period_end: sub.currentPeriodEnd,
      current_period_start: sub.currentPeriodStart,
      current_trial: null,
      discounts: [],
      metadata: {},
      plan: renderPlan(price),
      price: renderPrice(price),
      quantity: item.quantity,
      subscription: sub.id,
      tax_rates: [],
    };
  }

  function renderSubscription(sub: SubscriptionRecord): WireObject {
    const currency = sub.items[0] ? priceOf(sub.items[0].priceId).currency : 'usd';
    return {
      id: sub.id,
      object: 'subscription',
      application: null,
      application_fee_percent: null,
      automatic_tax: { disabled_reason: null, enabled: false, liability: null },
      billing_cycle_anchor: sub.billingCycleAnchor,
      billing_cycle_anchor_config: null,
      billing_mode: { flexible: null, type: 'classic' },
      billing_schedules: [],
      billing_thresholds: null,
      cancel_at: sub.cancelAt,
      cancel_at_period_end: sub.cancelAtPeriodEnd,
      canceled_at: sub.canceledAt,
      cancellation_details: { ...sub.cancellation },
      collection_method: 'charge_automatically',
      created: sub.created,
      currency,
      customer: sub.customerId,
      customer_account: null,
      days_until_due: null,
      default_payment_method: null,
      default_source: null,
      default_tax_rates: [],
      description: sub.description,
      discounts: [],
      ended_at: sub.endedAt,
      invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
      items: list(
        sub.items.map((item) => renderSubscriptionItem(sub, item)),
        `/v1/subscription_items?subscription=${sub.id}`,
      ),
      latest_invoice: sub.latestInvoiceId,
      livemode: false,
      managed_payments: null,
      metadata: { ...sub.metadata },
      next_pending_invoice_item_invoice: null,
      on_behalf_of: null,
      pause_collection: null,
      payment_settings: {
        payment_method_options: null,
        payment_method_types: null,
        save_default_payment_method: 'off',
      },
      pending_invoice_item_interval: null,
      pending_setup_intent: null,
      pending_update: null,
      schedule: null,
      start_date: sub.startDate,
      status: sub.status,
      test_clock: null,
      transfer_data: null,
      trial_end: sub.trialEnd,
      trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
      trial_start: sub.trialStart,
    };
  }

  function renderInvoiceLine(invoice: InvoiceRecord, line: InvoiceRecord['lines'][number]): WireObject {
    const price = priceOf(line.priceId);
    return {
      id: line.id,
      object: 'line_item',
      amount: line.amount,
      currency: invoice.currency,
      description: `${line.quantity} × ${state.products.get(price.productId)?.name ?? price.productId}`,
      discount_amounts: [],
      discountable: true,
      discounts: [],
      invoice: invoice.id,
      livemode: false,
      metadata: {},
      parent: {
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: null,
          proration: false,
          proration_details: { credited_items: null },
          subscription: invoice.subscriptionId,
          subscription_item: line.subscriptionItemId,
        },
        type: 'subscription_item_details',
      },
      period: { end: line.periodEnd, start: line.periodStart },
      pretax_credit_amounts: [],
      pricing: {
        price_details: { price: price.id, product: price.productId },
        type: 'price_details',
        unit_amount_decimal: String(price.unitAmount),
      },
      quantity: line.quantity,
      quantity_decimal: String(line.quantity),
      subscription: invoice.subscriptionId,
      subtotal: line.amount,
      taxes: [],
    };
  }

  function renderInvoice(invoice: InvoiceRecord): WireObject {
    const sub = state.subscriptions.get(invoice.subscriptionId);
    const customer = state.customers.get(invoice.customerId);
    const remaining = invoice.status === 'paid' ? 0 : invoice.total;
    const url = `${ctx.publicUrl()}/i/${invoice.id}`;
    return {
      id: invoice.id,
      object: 'invoice',
      account_country: 'US',
      account_name: 'Fake Stripe account',
      account_tax_ids: null,
      amount_due: invoice.total,
      amount_overpaid: 0,
      amount_paid: invoice.amountPaid,
      amount_remaining: remaining,
      amount_shipping: 0,
      application: null,
      attempt_count: invoice.attemptCount,
      attempted: invoice.attempted,
      auto_advance: invoice.status !== 'paid',
      automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
      automatically_finalizes_at: null,
      billing_reason: invoice.billingReason,
      collection_method: 'charge_automatically',
      created: invoice.created,
      currency: invoice.currency,
      custom_fields: null,
      customer: invoice.customerId,
      customer_account: null,
      customer_address: null,
      customer_email: customer?.email ?? null,
      customer_name: customer?.name ?? null,
      customer_phone: null,
      customer_shipping: null,
      customer_tax_exempt: 'none',
      customer_tax_ids: [],
      default_payment_method: null,
      default_source: null,
      default_tax_rates: [],
      description: null,
      discounts: [],
      due_date: null,
      effective_at: invoice.finalizedAt,
      ending_balance: invoice.finalizedAt === null ? null : 0,
      footer: null,
      from_invoice: null,
      hosted_invoice_url: invoice.status === 'draft' ? null : url,
      invoice_pdf: invoice.status === 'draft' ? null : `${url}/pdf`,
      issuer: { type: 'self' },
      last_finalization_error: null,
      latest_revision: null,
      lines: list(
        invoice.lines.map((line) => renderInvoiceLine(invoice, line)),
        `/v1/invoices/${invoice.id}/lines`,
      ),
      livemode: false,
      metadata: {},
      next_payment_attempt: invoice.nextPaymentAttempt,
      number: invoice.number,
      on_behalf_of: null,
      // Since 2025-03-31.basil the subscription is reached through `parent`, not `invoice.subscription`.
      parent: {
        quote_details: null,
        subscription_details: { metadata: sub ? { ...sub.metadata } : {}, subscription: invoice.subscriptionId },
        type: 'subscription_details',
      },
      payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
      period_end: invoice.periodEnd,
      period_start: invoice.periodStart,
      post_payment_credit_notes_amount: 0,
      pre_payment_credit_notes_amount: 0,
      receipt_number: null,
      rendering: null,
      shipping_cost: null,
      shipping_details: null,
      starting_balance: 0,
      statement_descriptor: null,
      status: invoice.status,
      status_transitions: {
        finalized_at: invoice.finalizedAt,
        marked_uncollectible_at: null,
        paid_at: invoice.paidAt,
        voided_at: null,
      },
      subtotal: invoice.total,
      subtotal_excluding_tax: invoice.total,
      test_clock: null,
      total: invoice.total,
      total_discount_amounts: [],
      total_excluding_tax: invoice.total,
      total_pretax_credit_amounts: [],
      total_taxes: [],
      webhooks_delivered_at: invoice.finalizedAt,
    };
  }

  function sessionAmount(session: CheckoutSessionRecord): { total: number; currency: string | null } {
    let total = 0;
    let currency: string | null = null;
    for (const item of session.lineItems) {
      const price = priceOf(item.priceId);
      total += price.unitAmount * item.quantity;
      currency = price.currency;
    }
    // A trial defers the first charge: Checkout shows (and bills) nothing today.
    return { total: session.trialPeriodDays || session.trialEnd ? 0 : total, currency };
  }

  function renderCheckoutLineItem(item: CheckoutSessionRecord['lineItems'][number]): WireObject {
    const price = priceOf(item.priceId);
    const amount = price.unitAmount * item.quantity;
    return {
      id: item.id,
      object: 'item',
      adjustable_quantity: null,
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: state.products.get(price.productId)?.name ?? price.productId,
      metadata: {},
      price: renderPrice(price),
      quantity: item.quantity,
    };
  }

  function renderCheckoutLineItems(session: CheckoutSessionRecord): WireObject {
    return list(
      session.lineItems.map(renderCheckoutLineItem),
      `/v1/checkout/sessions/${session.id}/line_items`,
    );
  }

  /** What the payer entered: known once the session is complete, or up front when an email was given. */
  function checkoutCustomerDetails(session: CheckoutSessionRecord, customer: CustomerRecord | undefined, email: string | null): WireObject | null {
    if (session.status !== 'complete' && !email) return null;
    return {
      address: null,
      business_name: null,
      email: email ?? null,
      individual_name: null,
      name: customer?.name ?? null,
      phone: null,
      tax_exempt: 'none',
      tax_ids: [],
    };
  }

  function renderCheckoutSession(session: CheckoutSessionRecord): WireObject {
    const { total, currency } = sessionAmount(session);
    const customer = session.customerId ? state.customers.get(session.customerId) : undefined;
    const email = customer?.email ?? session.customerEmail;
    return {
      id: session.id,
      object: 'checkout.session',
      adaptive_pricing: null,
      after_expiration: null,
      allow_promotion_codes: null,
      allowed_payment_method_types: null,
      amount_subtotal: total,
      amount_total: total,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: null,
      cancel_url: session.cancelUrl,
      client_reference_id: session.clientReferenceId,
      client_secret: null,
      collected_information: session.status === 'complete' ? { business_name: null, individual_name: null, shipping_details: null } : null,
      consent: null,
      consent_collection: null,
      created: session.created,
      currency,
      currency_conversion: null,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: session.customerId,
      customer_account: null,
      customer_creation: session.createsCustomer ? 'always' : null,
      customer_details: checkoutCustomerDetails(session, customer, email),
      customer_email: session.customerEmail,
      discounts: [],
      expires_at: session.expiresAt,
      integration_identifier: null,
      invoice: session.invoiceId,
      invoice_creation: null,
      livemode: false,
      locale: session.locale,
      managed_payments: null,
      metadata: { ...session.metadata },
      mode: 'subscription',
      origin_context: null,
      payment_intent: null,
      payment_link: null,
      payment_method_collection: 'always',
      payment_method_configuration_details: null,
      payment_method_options: { card: { request_three_d_secure: 'automatic' } },
      payment_method_types: ['card'],
      payment_status: session.paymentStatus,
      permissions: null,
      phone_number_collection: { enabled: false },
      recovered_from: null,
      saved_payment_method_options: { allow_redisplay_filters: ['always'], payment_method_remove: 'disabled', payment_method_save: null },
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: session.status,
      submit_type: null,
      subscription: session.subscriptionId,
      success_url: session.successUrl,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: 'hosted_page',
      // Only an open session has a payable URL.
      url: session.status === 'open' ? checkoutPageUrl(ctx.publicUrl(), session.id) : null,
      wallet_options: null,
    };
  }

  function renderPortalSession(portal: PortalSessionRecord): WireObject {
    return {
      id: portal.id,
      object: 'billing_portal.session',
      configuration: portal.configurationId,
      created: portal.created,
      customer: portal.customerId,
      customer_account: null,
      flow: null,
      livemode: false,
      locale: portal.locale,
      on_behalf_of: null,
      return_url: portal.returnUrl,
      url: portalPageUrl(ctx.publicUrl(), portal.id),
    };
  }

  /** Renders any stored object by id, for `expand[]` and the generic lookups. */
  function renderById(id: string): WireObject | undefined {
    const customer = state.customers.get(id);
    if (customer) return renderCustomer(customer);
    const price = state.prices.get(id);
    if (price) return renderPrice(price);
    const product = state.products.get(id);
    if (product) return renderProduct(product);
    const session = state.checkoutSessions.get(id);
    if (session) return renderCheckoutSession(session);
    const sub = state.subscriptions.get(id);
    if (sub) return renderSubscription(sub);
    const invoice = state.invoices.get(id);
    if (invoice) return renderInvoice(invoice);
    const portal = state.portalSessions.get(id);
    if (portal) return renderPortalSession(portal);
    return undefined;
  }

  /**
   * Applies `expand[]`: each dotted path replaces an id string with its object, expanding ids met on the
   * way (as Stripe does for `subscription.customer`) and walking into list arrays (`items.data.price`).
   */
  function expand(object: WireObject, paths: string[]): WireObject {
    for (const path of paths) expandPath(object, path.split('.'), path);
    return object;
  }

  function expandPath(node: WireObject, segments: string[], path: string): void {
    const [head, ...rest] = segments;
    if (head === undefined) return;
    // Raised while rendering, i.e. after a create has run: like any post-execution error it is saved for
    // idempotency, so a retry with the same key cannot create a second object.
    const cannotExpand = () => invalidState(`This property cannot be expanded (${path}).`, 'expand');
    if (!(head in node)) throw cannotExpand();
    let value = node[head];
    if (typeof value === 'string') {
      const resolved = renderById(value);
      if (!resolved) throw cannotExpand();
      node[head] = resolved;
      value = resolved;
    }
    if (rest.length === 0 || value === null) return;
    const children = Array.isArray(value) ? value : [value];
    for (const child of children) {
      if (child && typeof child === 'object' && !Array.isArray(child)) expandPath(child as WireObject, rest, path);
    }
  }

  return {
    customer: renderCustomer,
    price: renderPrice,
    product: renderProduct,
    subscription: renderSubscription,
    subscriptionItem: renderSubscriptionItem,
    invoice: renderInvoice,
    checkoutSession: renderCheckoutSession,
    checkoutLineItems: renderCheckoutLineItems,
    portalSession: renderPortalSession,
    byId: renderById,
    expand,
  };
}
export type Renderer = ReturnType<typeof createRenderer>;

export const checkoutPageUrl = (base: string, sessionId: string) => `${base}/c/pay/${sessionId}`;
export const portalPageUrl = (base: string, portalSessionId: string) => `${base}/p/session/${portalSessionId}`;
