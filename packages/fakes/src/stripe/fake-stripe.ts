// A local Stripe for tests and offline development: the v1 endpoints a Checkout subscription integration
// calls (driven through the real stripe-node SDK via `host`/`port`/`protocol`), the hosted Checkout and
// portal pages, signed webhooks, and controls to script billing events and delivery mishaps.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiGate, type ApiFault, type ApiMatch } from './api-gate.js';
import { createApiRoutes, type ApiResult } from './api.routes.js';
import { createBillingState, type PriceSeed, type StripeEvent, type WireObject } from './billing-state.js';
import { createBillingService, type Outcome } from './billing.service.js';
import { createControlRoutes } from './control.routes.js';
import { parseForm, type FormObject } from './form-encoding.js';
import { createHostedPageRoutes } from './hosted-pages.routes.js';
import { BodyTooLargeError, html, json, matchRoute, readBody, send, type Reply } from './http-kit.js';
import { createIdempotencyStore } from './idempotency.js';
import { ID_PREFIX, newId } from './ids.js';
import { FakeStripeError, unrecognizedUrl } from './stripe-error.js';
import {
  createWebhookDispatcher,
  type ReleaseOrder,
  type SigningMode,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './webhook-dispatcher.js';
import { createRenderer, STRIPE_API_VERSION } from './wire-objects.js';

/** The price seeded when none are given: the app's Pro plan, $10 a month. */
export const DEFAULT_PRICES: readonly PriceSeed[] = [
  { id: 'price_pro_monthly', unitAmount: 1000, currency: 'usd', interval: 'month', productId: 'prod_pro', productName: 'Pro', lookupKey: 'pro_monthly' },
];

export interface FakeStripeOptions {
  /** The endpoint secret (`whsec_…`) deliveries are signed with; give the app the same one. */
  webhookSecret: string;
  /** Where events are POSTed. Without it events are still recorded (and can be sent once it is set). */
  webhookUrl?: string;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Base of the hosted-page URLs handed out (`session.url`), when browsers reach the fake by another name. */
  publicUrl?: string;
  /** Prices to serve; DEFAULT_PRICES when omitted. */
  prices?: readonly PriceSeed[];
  /** Event types the endpoint subscribes to; every type (`'*'`) by default, as `stripe listen` does. */
  enabledEvents?: readonly string[] | '*';
  /** Attempts per webhook delivery; 1 (no retries) by default. */
  maxDeliveryAttempts?: number;
  /** First retry delay, doubling per attempt (capped at 5 s). */
  retryDelayMs?: number;
  deliveryTimeoutMs?: number;
  /** Clock in milliseconds; Date.now by default. */
  now?: () => number;
  /** One line per delivery and per unexpected error, for the CLI. */
  log?: (line: string) => void;
}

/** One `/v1` API call as the fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: FormObject;
  /** The form body decoded into objects and arrays (`line_items[0][price]` → `body.line_items[0].price`). */
  body: FormObject;
  rawBody: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  idempotencyKey: string | null;
  stripeVersion: string | null;
  requestId: string;
  /** The status the fake answered with (0 while the request is being handled). */
  status: number;
  /** True when the answer was an idempotent replay. */
  replayed: boolean;
  at: number;
}

export interface ScenarioResult {
  /** The events emitted, in order (whether or not they were delivered). */
  events: StripeEvent[];
  /** Deliveries made before this call returned (none while webhooks are held). */
  deliveries: WebhookDelivery[];
  subscription?: WireObject;
  checkoutSession?: WireObject;
}

export interface FakeStripe {
  /** `http://127.0.0.1:<port>`: the base for hosted pages and `/__fake` controls. */
  readonly url: string;
  /** For `new Stripe(key, { host, port, protocol })`. */
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http';
  /** The three options above as one object, to spread into the Stripe config. */
  readonly stripeConfig: { host: string; port: number; protocol: 'http' };
  readonly apiVersion: string;
  readonly requests: readonly RecordedRequest[];
  readonly events: readonly StripeEvent[];
  readonly deliveries: readonly WebhookDelivery[];
  readonly heldEvents: readonly StripeEvent[];
  readonly holdingWebhooks: boolean;
  readonly signingMode: SigningMode;
  readonly webhookEndpoint: { url: string | null };

  /** What clicking Pay on the Checkout page does, without a browser; resolves after delivery. */
  completeCheckout(sessionId: string): Promise<ScenarioResult>;
  /** A successful billing cycle (or, when past_due, the successful retry). */
  renewSubscription(subscriptionId: string): Promise<ScenarioResult>;
  /** A failed charge: the next period's invoice fails and the subscription goes past_due. */
  failPayment(subscriptionId: string): Promise<ScenarioResult>;
  /** Cancels as the customer would in the portal (atPeriodEnd) or as support would (immediately). */
  cancelSubscription(subscriptionId: string, options: { atPeriodEnd: boolean }): Promise<ScenarioResult>;
  /** Reaches the period end: a scheduled cancellation takes effect, otherwise the subscription renews. */
  advanceToPeriodEnd(subscriptionId: string): Promise<ScenarioResult>;

  /** Sends an already emitted event again, same id and body (Stripe's duplicate delivery). */
  redeliverEvent(eventId: string, options?: { signing?: SigningMode }): Promise<WebhookDelivery[]>;
  /** Sends these events in exactly this order (out-of-order delivery). */
  deliverEvents(eventIds: readonly string[], options?: { signing?: SigningMode }): Promise<WebhookDelivery[]>;
  /** Parks new events instead of delivering them, until releaseWebhooks. */
  holdWebhooks(): void;
  /** Delivers held events: all in generation order (default) or reversed, or the listed ids in that order. */
  releaseWebhooks(options?: { order?: ReleaseOrder; signing?: SigningMode }): Promise<WebhookDelivery[]>;
  /** Signing for every later delivery; `valid` restores correct signatures. */
  setSigningMode(mode: SigningMode): void;
  setWebhookEndpoint(endpoint: { url: string | null; secret?: string }): void;
  /** Resolves when every delivery queued so far has finished (API-triggered events are sent in background). */
  webhooksIdle(): Promise<void>;
  /**
   * A slow Stripe: later API requests that match (every one when `match` is empty) are recorded, then wait until
   * releaseApi(). Replaces an earlier hold. A request with the Idempotency-Key of a parked one is answered 409
   * `idempotency_key_in_use`, as Stripe answers a key whose first request is still executing.
   */
  holdApi(match?: ApiMatch): void;
  /** Lets every parked API request go on, and lifts the hold. */
  releaseApi(): void;
  /** The API requests parked by holdApi right now, oldest first. */
  readonly heldApiRequests: readonly RecordedRequest[];
  /**
   * A failing Stripe: the next `times` (default 1) matching API requests get this error status and body instead
   * of being handled. Nothing executes and nothing is saved under their Idempotency-Key, as with an outage.
   */
  failApi(fault: ApiFault): void;
  /** Any stored object rendered as the API would return it (`cus_…`, `sub_…`, `cs_test_…`, `in_…`, price id). */
  retrieve(id: string): WireObject | undefined;
  /**
   * Forgets customers, sessions, subscriptions, events, deliveries, recorded requests and idempotency keys; lifts
   * any API hold (parked requests go on) and forgets scripted faults.
   */
  reset(): void;
  /** Stops listening, drops every open connection and aborts deliveries in flight. */
  close(): Promise<void>;
}

export async function startFakeStripe(options: FakeStripeOptions): Promise<FakeStripe> {
  if (!options.webhookSecret) throw new Error('startFakeStripe: webhookSecret is required');
  const now = options.now ?? Date.now;
  const bindHost = options.host ?? '127.0.0.1';
  const state = createBillingState();
  const requests: RecordedRequest[] = [];
  const idempotency = createIdempotencyStore(now);
  const gate = createApiGate<RecordedRequest>();
  let publicUrl = options.publicUrl?.replace(/\/+$/, '') ?? '';
  const render = createRenderer({ state, publicUrl: () => publicUrl });
  const dispatcher = createWebhookDispatcher({
    endpoint: { url: options.webhookUrl ?? null, secret: options.webhookSecret } satisfies WebhookEndpoint,
    enabledEvents: options.enabledEvents ?? '*',
    maxAttempts: Math.max(1, options.maxDeliveryAttempts ?? 1),
    retryDelayMs: options.retryDelayMs ?? 100,
    timeoutMs: options.deliveryTimeoutMs ?? 10_000,
    now,
    log: options.log,
  });
  const billing = createBillingService({ state, render, now, pendingWebhooks: (type) => dispatcher.pendingFor(type) });
  billing.seedPrices([...(options.prices ?? DEFAULT_PRICES)]);

  const apiRoutes = createApiRoutes({ billing, render, state });
  const pageRoutes = createHostedPageRoutes({ billing, state, dispatcher });
  // The control routes call the finished FakeStripe object, which only exists once the port is known.
  const started: { fake?: FakeStripe } = {};
  const controlRoutes = createControlRoutes(() => {
    if (!started.fake) throw new Error('fake stripe is still starting');
    return started.fake;
  });

  /**
   * Runs a matched API route once the gate lets it through. `save` says whether the answer belongs under the
   * Idempotency-Key: an error raised before anything changed does not, so a corrected retry can run.
   */
  async function execute(
    endpoint: string,
    record: RecordedRequest,
    handle: () => ApiResult | Promise<ApiResult>,
  ): Promise<{ status: number; body: string; events: StripeEvent[]; save: boolean }> {
    try {
      await gate.pass(record.method, record.path, record);
      const result = await handle();
      return { status: result.status, body: JSON.stringify(result.body, null, 2), events: result.events, save: true };
    } catch (err) {
      if (err instanceof FakeStripeError) {
        return { status: err.status, body: JSON.stringify(err.toBody(), null, 2), events: [], save: !err.beforeExecution };
      }
      options.log?.(`fake stripe: ${endpoint} failed: ${err instanceof Error ? err.stack : String(err)}`);
      const body = JSON.stringify({ error: { type: 'api_error', message: 'The fake Stripe server failed to handle this request.' } }, null, 2);
      return { status: 500, body, events: [], save: true };
    }
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, rawBody: string): Promise<void> {
    const record = recordRequest(req, url, rawBody, now());
    const { method, headers, requestId, idempotencyKey } = record;
    requests.push(record);
    const respond = (status: number, body: string, extra: Record<string, string> = {}) => {
      record.status = status;
      send(res, {
        status,
        headers: {
          'content-type': 'application/json',
          'request-id': requestId,
          'stripe-version': STRIPE_API_VERSION,
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
          ...extra,
        },
        body,
      });
    };
    const fail = (err: FakeStripeError, extra: Record<string, string> = {}) =>
      respond(err.status, JSON.stringify(err.toBody(), null, 2), extra);

    const auth = authenticate(headers.authorization);
    if (auth instanceof FakeStripeError) return fail(auth, { 'www-authenticate': 'Basic realm="Stripe"' });
    const apiKey = auth;

    const fault = gate.faultFor(method, url.pathname);
    if (fault) return fail(fault.error, fault.headers);

    const match = matchRoute(apiRoutes, method, url.pathname);
    if (match.kind !== 'found') return fail(unrecognizedUrl(method, url.pathname));
    if (method === 'POST' && /json/i.test(headers['content-type'] ?? '')) {
      return fail(
        new FakeStripeError(400, 'invalid_request_error', 'Stripe v1 requests take application/x-www-form-urlencoded bodies, not JSON.', null, null, true),
      );
    }
    const params: FormObject = { ...record.query, ...record.body };
    const endpoint = `${method} ${url.pathname}`;
    // Stripe ignores Idempotency-Key on GET and DELETE.
    const idempotentKey = method === 'POST' ? idempotencyKey : null;
    if (idempotentKey !== null) {
      try {
        const found = idempotency.lookup(apiKey, idempotentKey, endpoint, params);
        if (found.kind === 'replay') {
          record.replayed = true;
          return respond(found.response.status, found.response.body, {
            'idempotent-replayed': 'true',
            'original-request': found.response.requestId,
          });
        }
        idempotency.begin(apiKey, idempotentKey);
      } catch (err) {
        if (err instanceof FakeStripeError) return fail(err);
        throw err;
      }
    }

    const { status, body, events, save } = await execute(endpoint, record, () =>
      match.route.handle({ params, origin: { requestId, idempotencyKey } }, match.params),
    );
    if (idempotentKey !== null) {
      if (save) idempotency.save(apiKey, idempotentKey, endpoint, params, { status, body, requestId });
      idempotency.end(apiKey, idempotentKey);
    }
    respond(status, body);
    // Like Stripe, the API answers first; the endpoint hears about it shortly after.
    if (events.length > 0) void dispatcher.dispatch(events);
  }

  async function handleControl(req: IncomingMessage, url: URL, rawBody: string): Promise<Reply> {
    const match = matchRoute(controlRoutes, req.method ?? 'GET', url.pathname);
    if (match.kind !== 'found') return json(404, { error: { type: 'invalid_request_error', message: `No control route ${req.method} ${url.pathname}` } });
    let body: Record<string, unknown> = {};
    if (rawBody.trim()) {
      try {
        const parsed: unknown = JSON.parse(rawBody);
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch {
        return json(400, { error: { type: 'invalid_request_error', message: 'Control requests take a JSON object body.' } });
      }
    }
    try {
      return await match.route.handle({ body, query: url.searchParams }, match.params);
    } catch (err) {
      if (err instanceof FakeStripeError) return json(err.status, err.toBody());
      // ControlInputError and the controls' own errors (unknown event, session not open…) are the caller's fault.
      if (err instanceof Error) {
        return json(400, { error: { type: 'invalid_request_error', message: err.message } });
      }
      throw err;
    }
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-stripe.invalid');
    try {
      const rawBody = await readBody(req);
      if (url.pathname === '/v1' || url.pathname.startsWith('/v1/')) return await handleApi(req, res, url, rawBody);
      if (url.pathname.startsWith('/__fake/')) return send(res, await handleControl(req, url, rawBody));
      const match = matchRoute(pageRoutes, req.method ?? 'GET', url.pathname);
      if (match.kind === 'found') return send(res, await match.route.handle({ body: rawBody }, match.params));
      return send(res, html(404, '<!doctype html><title>Not found</title><p>Not found.</p>'));
    } catch (err) {
      if (res.headersSent) return;
      if (err instanceof BodyTooLargeError) return send(res, json(413, { error: { type: 'invalid_request_error', message: err.message } }));
      options.log?.(`fake stripe: ${req.method} ${url.pathname} failed: ${err instanceof Error ? err.stack : String(err)}`);
      send(res, json(500, { error: { type: 'api_error', message: 'The fake Stripe server failed to handle this request.' } }));
    }
  }

  const server = createServer((req, res) => void onRequest(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  // A wildcard bind is still reached through loopback by local clients.
  const host = bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost === '::' ? '::1' : bindHost;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!publicUrl) publicUrl = url;

  const scenario = async <T>(
    outcome: Outcome<T>,
    shape: (result: T) => Pick<ScenarioResult, 'subscription' | 'checkoutSession'>,
  ): Promise<ScenarioResult> => {
    const deliveries = await dispatcher.dispatch(outcome.events);
    return { events: outcome.events, deliveries, ...shape(outcome.result) };
  };
  const eventsById = (ids: readonly string[]) =>
    ids.map((id) => {
      const event = state.eventsById.get(id);
      if (!event) throw new Error(`fake stripe: no event ${id}`);
      return event;
    });

  let closing: Promise<void> | undefined;
  const fake: FakeStripe = {
    url,
    host,
    port,
    protocol: 'http',
    stripeConfig: { host, port, protocol: 'http' },
    apiVersion: STRIPE_API_VERSION,
    get requests() {
      return requests;
    },
    get events() {
      return state.events;
    },
    get deliveries() {
      return dispatcher.deliveries;
    },
    get heldEvents() {
      return dispatcher.held;
    },
    get holdingWebhooks() {
      return dispatcher.holding;
    },
    get signingMode() {
      return dispatcher.signingMode;
    },
    get webhookEndpoint() {
      return { url: dispatcher.endpoint.url };
    },
    get heldApiRequests() {
      return gate.held;
    },

    async completeCheckout(sessionId) {
      return scenario(billing.completeCheckout(sessionId), ({ session, subscription }) => ({
        checkoutSession: render.checkoutSession(session),
        subscription: render.subscription(subscription),
      }));
    },
    async renewSubscription(subscriptionId) {
      return scenario(billing.renewSubscription(subscriptionId), (sub) => ({ subscription: render.subscription(sub) }));
    },
    async failPayment(subscriptionId) {
      return scenario(billing.failPayment(subscriptionId), (sub) => ({ subscription: render.subscription(sub) }));
    },
    async cancelSubscription(subscriptionId, { atPeriodEnd }) {
      const outcome = atPeriodEnd
        ? billing.updateSubscription(subscriptionId, { cancelAtPeriodEnd: true }, null)
        : billing.cancelSubscriptionNow(subscriptionId, {}, null);
      return scenario(outcome, (sub) => ({ subscription: render.subscription(sub) }));
    },
    async advanceToPeriodEnd(subscriptionId) {
      return scenario(billing.advanceToPeriodEnd(subscriptionId), (sub) => ({ subscription: render.subscription(sub) }));
    },

    async redeliverEvent(eventId, { signing } = {}) {
      return dispatcher.deliver(eventsById([eventId]), signing);
    },
    async deliverEvents(eventIds, { signing } = {}) {
      return dispatcher.deliver(eventsById(eventIds), signing);
    },
    holdWebhooks() {
      dispatcher.hold();
    },
    async releaseWebhooks({ order, signing } = {}) {
      return dispatcher.release(order, signing);
    },
    setSigningMode(mode) {
      dispatcher.setSigningMode(mode);
    },
    setWebhookEndpoint(endpoint) {
      dispatcher.setEndpoint(endpoint);
    },
    webhooksIdle() {
      return dispatcher.idle();
    },
    holdApi(match) {
      gate.hold(match);
    },
    releaseApi() {
      gate.release();
    },
    failApi(fault) {
      gate.addFault(fault);
    },
    retrieve(id) {
      return render.byId(id);
    },
    reset() {
      gate.reset();
      billing.reset();
      dispatcher.reset();
      idempotency.reset();
      requests.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        gate.reset();
        dispatcher.close();
        server.close(() => resolve());
        // Keep-alive sockets (stripe-node pools them) would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
  started.fake = fake;
  return fake;
}

/** The API key from `Authorization: Bearer sk_test_…` (or HTTP Basic with the key as user, as curl -u sends). */
function authenticate(header: string | undefined): string | FakeStripeError {
  let key: string | undefined;
  if (header?.startsWith('Bearer ')) key = header.slice('Bearer '.length).trim();
  else if (header?.startsWith('Basic ')) key = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8').split(':')[0];
  if (!key) {
    return new FakeStripeError(
      401,
      'invalid_request_error',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    );
  }
  if (!key.startsWith('sk_test_')) {
    const masked = key.length > 12 ? `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}` : `${key.slice(0, 3)}***`;
    return new FakeStripeError(
      401,
      'invalid_request_error',
      `Invalid API Key provided: ${masked}. The fake Stripe server accepts test-mode secret keys (sk_test_…) only.`,
    );
  }
  return key;
}

/** A `/v1` request as the fake received it; its status is filled in when it is answered. */
function recordRequest(req: IncomingMessage, url: URL, rawBody: string, at: number): RecordedRequest {
  const method = req.method ?? 'GET';
  const headers = headerRecord(req);
  return {
    method,
    path: url.pathname,
    query: parseForm(url.search.slice(1)),
    body: method === 'POST' ? parseForm(rawBody) : {},
    rawBody,
    headers,
    idempotencyKey: headers['idempotency-key'] ?? null,
    stripeVersion: headers['stripe-version'] ?? null,
    requestId: newId(ID_PREFIX.request, 14),
    status: 0,
    replayed: false,
    at,
  };
}

function headerRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
