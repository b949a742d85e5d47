// The `/v1` endpoints a Checkout-based subscription integration calls, with Stripe's parameter rules.
// Handlers parse and validate parameters (before anything changes, so a rejected request is not saved
// for idempotency), call one billing operation and render the result.
import {
  CANCELLATION_DETAILS,
  CANCELLATION_FEEDBACK,
  CHECKOUT_CREATE,
  CHECKOUT_LINE_ITEM,
  CHECKOUT_SUBSCRIPTION_DATA,
  CUSTOMER_CREATE,
  CUSTOMER_LIST,
  CUSTOMER_UPDATE,
  EVENT_LIST,
  LIST_PARAMS,
  PORTAL_CREATE,
  PRICE_LIST,
  RETRIEVE,
  SUBSCRIPTION_CANCEL,
  SUBSCRIPTION_LIST,
  SUBSCRIPTION_UPDATE,
} from './api-param-specs.js';
import type { BillingState, CheckoutSessionRecord, RequestOrigin, StripeEvent, WireObject } from './billing-state.js';
import type { BillingService, CheckoutSessionInput, CustomerInput } from './billing.service.js';
import type { FormObject } from './form-encoding.js';
import { compileRoutes, type Route } from './http-kit.js';
import {
  checkParams,
  expandPaths,
  metadataUpdate,
  optionalBoolean,
  optionalInteger,
  optionalList,
  optionalNonEmptyString,
  optionalNullableString,
  optionalObject,
  optionalString,
  requiredString,
  type ParamSpec,
} from './params.js';
import { noSuchObject, noSuchReference, parameterInvalid, parameterMissing, parametersExclusive } from './stripe-error.js';
import { list, type Renderer } from './wire-objects.js';

export interface ApiRequest {
  /** Query string and form body, merged and decoded. */
  params: FormObject;
  origin: RequestOrigin;
}

export interface ApiResult {
  status: number;
  body: WireObject;
  /** Events this request caused; delivered after the response is sent, as Stripe does. */
  events: StripeEvent[];
}

type ApiRoute = Route<ApiRequest, ApiResult>;

const ok = (body: WireObject, events: StripeEvent[] = []): ApiResult => ({ status: 200, body, events });

export function createApiRoutes({ billing, render, state }: { billing: BillingService; render: Renderer; state: BillingState }) {
  /** Stripe lists newest first, with cursor pagination on object ids. */
  function paginate<T extends { id: string }>(
    params: FormObject,
    items: T[],
    url: string,
    kind: string,
    toWire: (item: T) => WireObject,
  ): WireObject {
    const limit = optionalInteger(params, 'limit', { min: 1, max: 100 }) ?? 10;
    const after = optionalNonEmptyString(params, 'starting_after');
    const before = optionalNonEmptyString(params, 'ending_before');
    if (after && before) throw parametersExclusive(['starting_after', 'ending_before']);
    const newestFirst = [...items].reverse();
    const indexOf = (id: string, param: string) => {
      const index = newestFirst.findIndex((item) => item.id === id);
      if (index === -1) throw noSuchReference(kind, id, param);
      return index;
    };
    let page: T[];
    let hasMore: boolean;
    if (after) {
      const start = indexOf(after, 'starting_after') + 1;
      page = newestFirst.slice(start, start + limit);
      hasMore = start + limit < newestFirst.length;
    } else if (before) {
      const end = indexOf(before, 'ending_before');
      const start = Math.max(0, end - limit);
      page = newestFirst.slice(start, end);
      hasMore = start > 0;
    } else {
      page = newestFirst.slice(0, limit);
      hasMore = newestFirst.length > limit;
    }
    return render.expand(list(page.map(toWire), url, hasMore), expandPaths(params));
  }

  /** `line_items` is not part of a session until expanded. */
  function renderSession(session: CheckoutSessionRecord, paths: string[]): WireObject {
    const body = render.checkoutSession(session);
    if (paths.some((path) => path === 'line_items' || path.startsWith('line_items.'))) {
      body.line_items = render.checkoutLineItems(session);
    }
    return render.expand(body, paths);
  }

  function cancellationDetails(params: FormObject, endpoint: string) {
    const details = optionalObject(params, 'cancellation_details');
    if (!details) return {};
    checkParams(details, CANCELLATION_DETAILS, endpoint, 'cancellation_details');
    const feedback = optionalNullableString(details, 'feedback', 'cancellation_details[feedback]');
    if (feedback && !CANCELLATION_FEEDBACK.includes(feedback)) {
      throw parameterInvalid(
        'cancellation_details[feedback]',
        `Invalid cancellation_details[feedback]: must be one of ${CANCELLATION_FEEDBACK.join(', ')}`,
      );
    }
    return { comment: optionalNullableString(details, 'comment', 'cancellation_details[comment]'), feedback };
  }

  function url(params: FormObject, key: string): string | undefined {
    const value = optionalNonEmptyString(params, key);
    if (value === undefined) return undefined;
    try {
      new URL(value);
    } catch {
      throw parameterInvalid(key, 'Not a valid URL', 'url_invalid');
    }
    return value;
  }

  /** `GET <collection>/:id`: Stripe's retrieve, which takes nothing but `expand[]`. */
  function retrieveRoute<T>(collection: string, find: (id: string) => T, show: (item: T, params: FormObject) => WireObject): ApiRoute {
    const path = `${collection}/:id`;
    return {
      method: 'GET',
      path,
      handle: ({ params }, { id = '' }) => {
        checkParams(params, RETRIEVE, `GET ${path}`);
        return ok(show(find(id), params));
      },
    };
  }

  /** `GET <collection>`: the items `select` picks from the query, in Stripe's paginated list envelope. */
  function listRoute<T extends { id: string }>(
    collection: string,
    spec: ParamSpec,
    kind: string,
    select: (params: FormObject) => T[],
    toWire: (item: T) => WireObject,
  ): ApiRoute {
    return {
      method: 'GET',
      path: collection,
      handle: ({ params }) => {
        checkParams(params, spec, `GET ${collection}`);
        return ok(paginate(params, select(params), collection, kind, toWire));
      },
    };
  }

  /** Renders a retrieved object with the request's `expand[]` applied. */
  const expanded =
    <T>(toWire: (item: T) => WireObject) =>
    (item: T, params: FormObject): WireObject =>
      render.expand(toWire(item), expandPaths(params));

  function customersMatching(params: FormObject) {
    const email = optionalNonEmptyString(params, 'email');
    return [...state.customers.values()].filter((c) => email === undefined || c.email === email);
  }

  function subscriptionsMatching(params: FormObject) {
    const customer = optionalNonEmptyString(params, 'customer');
    const price = optionalNonEmptyString(params, 'price');
    const status = optionalNonEmptyString(params, 'status');
    return [...state.subscriptions.values()].filter((sub) => {
      if (customer !== undefined && sub.customerId !== customer) return false;
      if (price !== undefined && !sub.items.some((item) => item.priceId === price)) return false;
      if (status === undefined) return sub.status !== 'canceled'; // Stripe's default hides canceled ones
      if (status === 'all') return true;
      if (status === 'ended') return sub.status === 'canceled' || sub.status === 'incomplete_expired';
      return sub.status === status;
    });
  }

  function pricesMatching(params: FormObject) {
    const active = optionalBoolean(params, 'active');
    const currency = optionalNonEmptyString(params, 'currency');
    const product = optionalNonEmptyString(params, 'product');
    const type = optionalNonEmptyString(params, 'type');
    const lookupKeys = (optionalList(params, 'lookup_keys') ?? []).map(String);
    return [...state.prices.values()].filter(
      (price) =>
        active !== false &&
        (currency === undefined || price.currency === currency) &&
        (product === undefined || price.productId === product) &&
        (type === undefined || type === 'recurring') &&
        (lookupKeys.length === 0 || (price.lookupKey !== null && lookupKeys.includes(price.lookupKey))),
    );
  }

  function eventsMatching(params: FormObject) {
    const type = optionalNonEmptyString(params, 'type');
    const types = (optionalList(params, 'types') ?? []).map(String);
    if (type !== undefined && types.length > 0) throw parametersExclusive(['type', 'types']);
    const matches = (eventType: string) => {
      if (type === undefined) return types.length === 0 || types.includes(eventType);
      // `type` accepts a trailing wildcard, e.g. `customer.subscription.*`.
      return type.endsWith('*') ? eventType.startsWith(type.slice(0, -1)) : eventType === type;
    };
    return state.events.filter((event) => matches(event.type));
  }

  const eventToWire = (event: StripeEvent) => structuredClone(event) as unknown as WireObject;

  const routes: ApiRoute[] = [
    {
      method: 'POST',
      path: '/v1/customers',
      handle: ({ params, origin }) => {
        checkParams(params, CUSTOMER_CREATE, 'POST /v1/customers');
        const paths = expandPaths(params);
        const { result, events } = billing.createCustomer(customerInput(params), origin);
        return ok(render.expand(render.customer(result), paths), events);
      },
    },
    listRoute('/v1/customers', CUSTOMER_LIST, 'customer', customersMatching, render.customer),
    retrieveRoute('/v1/customers', billing.customer, expanded(render.customer)),
    {
      method: 'POST',
      path: '/v1/customers/:id',
      handle: ({ params, origin }, { id = '' }) => {
        checkParams(params, CUSTOMER_UPDATE, 'POST /v1/customers/:id');
        const paths = expandPaths(params);
        const { result, events } = billing.updateCustomer(id, customerInput(params), origin);
        return ok(render.expand(render.customer(result), paths), events);
      },
    },
    {
      method: 'POST',
      path: '/v1/checkout/sessions',
      handle: ({ params }) => {
        const endpoint = 'POST /v1/checkout/sessions';
        checkParams(params, CHECKOUT_CREATE, endpoint);
        checkSubscriptionMode(params);
        const customerId = optionalNonEmptyString(params, 'customer');
        const customerEmail = optionalNonEmptyString(params, 'customer_email');
        if (customerId !== undefined && customerEmail !== undefined) throw parametersExclusive(['customer', 'customer_email']);
        const lineItems = checkoutLineItems(params, endpoint);
        const subscriptionData = optionalObject(params, 'subscription_data') ?? {};
        checkParams(subscriptionData, CHECKOUT_SUBSCRIPTION_DATA, endpoint, 'subscription_data');
        const { trialPeriodDays, trialEnd } = checkoutTrial(subscriptionData);
        const clientReferenceId = checkoutClientReference(params);
        const paths = expandPaths(params);
        const session = billing.createCheckoutSession({
          customerId,
          customerEmail,
          clientReferenceId,
          metadata: plainMetadata(metadataUpdate(params)),
          lineItems,
          subscriptionMetadata: plainMetadata(metadataUpdate(subscriptionData, 'metadata', 'subscription_data[metadata]')),
          subscriptionDescription: optionalNonEmptyString(subscriptionData, 'description', 'subscription_data[description]'),
          trialPeriodDays,
          trialEnd,
          successUrl: url(params, 'success_url'),
          cancelUrl: url(params, 'cancel_url'),
          locale: optionalNonEmptyString(params, 'locale'),
          expiresAt: optionalInteger(params, 'expires_at'),
        });
        return ok(renderSession(session, paths));
      },
    },
    retrieveRoute('/v1/checkout/sessions', billing.checkoutSession, (session, params) => renderSession(session, expandPaths(params))),
    {
      method: 'GET',
      path: '/v1/checkout/sessions/:id/line_items',
      handle: ({ params }, { id = '' }) => {
        checkParams(params, { implemented: LIST_PARAMS }, 'GET /v1/checkout/sessions/:id/line_items');
        // A subscription Checkout has a handful of items: one page, in the order they were given.
        return ok(render.expand(render.checkoutLineItems(billing.checkoutSession(id)), expandPaths(params)));
      },
    },
    {
      method: 'POST',
      path: '/v1/checkout/sessions/:id/expire',
      handle: ({ params, origin }, { id = '' }) => {
        checkParams(params, RETRIEVE, 'POST /v1/checkout/sessions/:id/expire');
        const paths = expandPaths(params);
        const { result, events } = billing.expireCheckoutSession(id, origin);
        return ok(renderSession(result, paths), events);
      },
    },
    listRoute('/v1/subscriptions', SUBSCRIPTION_LIST, 'subscription', subscriptionsMatching, render.subscription),
    retrieveRoute('/v1/subscriptions', billing.subscription, expanded(render.subscription)),
    {
      method: 'POST',
      path: '/v1/subscriptions/:id',
      handle: ({ params, origin }, { id = '' }) => {
        const endpoint = 'POST /v1/subscriptions/:id';
        checkParams(params, SUBSCRIPTION_UPDATE, endpoint);
        const paths = expandPaths(params);
        const cancelAtPeriodEnd = optionalBoolean(params, 'cancel_at_period_end');
        const rawCancelAt = optionalString(params, 'cancel_at');
        if (cancelAtPeriodEnd !== undefined && rawCancelAt !== undefined) {
          throw parametersExclusive(['cancel_at', 'cancel_at_period_end']);
        }
        const sub = billing.subscription(id);
        let cancelAt: number | null | undefined;
        if (rawCancelAt === '') cancelAt = null;
        else if (rawCancelAt === 'min_period_end' || rawCancelAt === 'max_period_end') cancelAt = sub.currentPeriodEnd;
        else if (rawCancelAt !== undefined) cancelAt = optionalInteger(params, 'cancel_at');
        const details = cancellationDetails(params, endpoint);
        const { result, events } = billing.updateSubscription(
          id,
          {
            cancelAtPeriodEnd,
            cancelAt,
            metadata: metadataUpdate(params),
            description: optionalNullableString(params, 'description'),
            cancellationComment: details.comment,
            cancellationFeedback: details.feedback,
          },
          origin,
        );
        return ok(render.expand(render.subscription(result), paths), events);
      },
    },
    {
      method: 'DELETE',
      path: '/v1/subscriptions/:id',
      handle: ({ params, origin }, { id = '' }) => {
        const endpoint = 'DELETE /v1/subscriptions/:id';
        checkParams(params, SUBSCRIPTION_CANCEL, endpoint);
        const paths = expandPaths(params);
        const details = cancellationDetails(params, endpoint);
        const { result, events } = billing.cancelSubscriptionNow(id, details, origin);
        return ok(render.expand(render.subscription(result), paths), events);
      },
    },
    {
      method: 'POST',
      path: '/v1/billing_portal/sessions',
      handle: ({ params }) => {
        checkParams(params, PORTAL_CREATE, 'POST /v1/billing_portal/sessions');
        const paths = expandPaths(params);
        const portal = billing.createPortalSession({
          customerId: requiredString(params, 'customer'),
          returnUrl: url(params, 'return_url'),
          locale: optionalNonEmptyString(params, 'locale'),
          configuration: optionalNonEmptyString(params, 'configuration'),
        });
        return ok(render.expand(render.portalSession(portal), paths));
      },
    },
    listRoute('/v1/prices', PRICE_LIST, 'price', pricesMatching, render.price),
    retrieveRoute('/v1/prices', billing.price, expanded(render.price)),
    retrieveRoute('/v1/products', storedIn(state.products, 'product'), expanded(render.product)),
    retrieveRoute('/v1/invoices', storedIn(state.invoices, 'invoice'), expanded(render.invoice)),
    listRoute('/v1/events', EVENT_LIST, 'event', eventsMatching, eventToWire),
    retrieveRoute('/v1/events', storedIn(state.eventsById, 'event'), eventToWire),
  ];
  return compileRoutes(routes);
}

function customerInput(params: FormObject): CustomerInput {
  return {
    email: optionalNullableString(params, 'email'),
    name: optionalNullableString(params, 'name'),
    phone: optionalNullableString(params, 'phone'),
    description: optionalNullableString(params, 'description'),
    metadata: metadataUpdate(params),
  };
}

/** Checkout in the fake sells subscriptions on the hosted page, nothing else. */
function checkSubscriptionMode(params: FormObject): void {
  const mode = requiredString(params, 'mode');
  if (mode !== 'subscription') {
    throw parameterInvalid('mode', `The fake Stripe server implements only mode=subscription (got ${mode}).`);
  }
  const uiMode = optionalString(params, 'ui_mode');
  if (uiMode !== undefined && uiMode !== 'hosted_page' && uiMode !== 'hosted') {
    throw parameterInvalid('ui_mode', `The fake Stripe server implements only the hosted page (got ui_mode=${uiMode}).`);
  }
}

function checkoutLineItems(params: FormObject, endpoint: string): CheckoutSessionInput['lineItems'] {
  const rawItems = optionalList(params, 'line_items');
  if (!rawItems || rawItems.length === 0) throw parameterMissing('line_items');
  return rawItems.map((raw, i) => {
    const name = `line_items[${i}]`;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw parameterInvalid(name, 'Invalid object');
    checkParams(raw, CHECKOUT_LINE_ITEM, endpoint, name);
    const priceId = requiredString(raw, 'price', `${name}[price]`);
    const quantity = optionalInteger(raw, 'quantity', { name: `${name}[quantity]`, min: 1 });
    if (quantity === undefined) throw parameterMissing(`${name}[quantity]`);
    return { priceId, quantity };
  });
}

function checkoutTrial(subscriptionData: FormObject): { trialPeriodDays?: number; trialEnd?: number } {
  const trialPeriodDays = optionalInteger(subscriptionData, 'trial_period_days', {
    name: 'subscription_data[trial_period_days]',
    min: 1,
    max: 730,
  });
  const trialEnd = optionalInteger(subscriptionData, 'trial_end', { name: 'subscription_data[trial_end]' });
  if (trialPeriodDays !== undefined && trialEnd !== undefined) {
    throw parametersExclusive(['subscription_data[trial_end]', 'subscription_data[trial_period_days]']);
  }
  return { trialPeriodDays, trialEnd };
}

function checkoutClientReference(params: FormObject): string | undefined {
  const clientReferenceId = optionalNonEmptyString(params, 'client_reference_id');
  if (clientReferenceId && clientReferenceId.length > 200) {
    throw parameterInvalid('client_reference_id', 'client_reference_id must be at most 200 characters.');
  }
  return clientReferenceId;
}

/** Looks a stored object up by id; a missing one is Stripe's `resource_missing`. */
function storedIn<T>(records: Map<string, T>, kind: string): (id: string) => T {
  return (id) => {
    const record = records.get(id);
    if (!record) throw noSuchObject(kind, id);
    return record;
  };
}

function plainMetadata(update: Map<string, string | null> | undefined): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [key, value] of update ?? []) if (value !== null) metadata[key] = value;
  return metadata;
}
