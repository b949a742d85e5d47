// Delivers events to the webhook endpoint the way Stripe does: one POST per event, the raw JSON body signed
// with `Stripe-Signature`, a 2xx meaning "received". Deliveries go out one at a time in the order they were
// queued; tests reorder, hold, duplicate or mis-sign them on purpose through this module.
import http, { type ClientRequest } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StripeEvent } from './billing-state.js';
import { signatureHeader } from './webhook-signature.js';

export const SIGNING_MODES = ['valid', 'wrong-secret', 'stale-timestamp', 'tampered-body', 'no-signature'] as const;
/**
 * How a delivery is signed. Everything but `valid` must make `constructEvent` throw:
 * `wrong-secret` signs with another secret, `stale-timestamp` signs correctly but 10 minutes in the past
 * (the SDK's default tolerance is 5), `tampered-body` changes the body after signing, `no-signature` omits
 * the header.
 */
export type SigningMode = (typeof SIGNING_MODES)[number];

const STALE_BY_SECONDS = 600;
const WRONG_SECRET = 'whsec_fake_stripe_not_the_endpoint_secret';
const RESPONSE_BODY_LIMIT = 2000;
const MAX_RETRY_DELAY_MS = 5000;

export interface WebhookDelivery {
  eventId: string;
  type: string;
  /** 1 for the first try; retries of the same delivery count up. */
  attempt: number;
  signing: SigningMode;
  url: string;
  /** The endpoint's HTTP status, or null when no response arrived. */
  status: number | null;
  ok: boolean;
  error: string | null;
  /** The start of the endpoint's response body, for debugging a failing handler. */
  responseBody: string;
  startedAt: number;
  durationMs: number;
}

export interface WebhookEndpoint {
  url: string | null;
  secret: string;
}

export type ReleaseOrder = 'generated' | 'reverse' | string[];

export interface WebhookDispatcherOptions {
  endpoint: WebhookEndpoint;
  /** Event types the endpoint subscribes to; `'*'` is every type, as in Stripe's endpoint settings. */
  enabledEvents: readonly string[] | '*';
  /** Attempts per delivery (1 = no retries). Stripe retries for days; a fake retries briefly, if at all. */
  maxAttempts: number;
  retryDelayMs: number;
  timeoutMs: number;
  now: () => number;
  log?: (line: string) => void;
}

export function createWebhookDispatcher(options: WebhookDispatcherOptions) {
  let endpoint: WebhookEndpoint = { ...options.endpoint };
  let signingMode: SigningMode = 'valid';
  let holding = false;
  const held: StripeEvent[] = [];
  const deliveries: WebhookDelivery[] = [];
  const inFlight = new Set<ClientRequest>();
  const stop = new AbortController();
  let closed = false;
  // One queue: events reach the endpoint in the order they were queued unless a test reorders them.
  let queue: Promise<unknown> = Promise.resolve();

  const subscribed = (type: string) =>
    endpoint.url !== null && (options.enabledEvents === '*' || options.enabledEvents.includes(type));

  function enqueue(events: StripeEvent[], signing: SigningMode): Promise<WebhookDelivery[]> {
    const run = queue.then(async () => {
      const done: WebhookDelivery[] = [];
      for (const event of events) done.push(...(await deliverWithRetries(event, signing)));
      return done;
    });
    queue = run.catch(() => undefined);
    return run;
  }

  async function deliverWithRetries(event: StripeEvent, signing: SigningMode): Promise<WebhookDelivery[]> {
    const attempts: WebhookDelivery[] = [];
    for (let attempt = 1; attempt <= options.maxAttempts && !closed; attempt++) {
      const delivery = await post(event, attempt, signing);
      deliveries.push(delivery);
      attempts.push(delivery);
      options.log?.(
        `webhook ${event.type} ${event.id} → ${delivery.status ?? delivery.error}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
      );
      if (delivery.ok || attempt === options.maxAttempts) break;
      const delay = Math.min(options.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
      try {
        await sleep(delay, undefined, { signal: stop.signal });
      } catch {
        break; // closed while waiting
      }
    }
    return attempts;
  }

  function post(event: StripeEvent, attempt: number, signing: SigningMode): Promise<WebhookDelivery> {
    const url = endpoint.url ?? '';
    const startedAt = options.now();
    const { headers, body } = signedDelivery(event, signing, endpoint.secret, Math.floor(startedAt / 1000));
    const base = { eventId: event.id, type: event.type, attempt, signing, url, startedAt };

    return new Promise((resolve) => {
      const finish = (status: number | null, error: string | null, responseBody = '') =>
        resolve({
          ...base,
          status,
          ok: status !== null && status >= 200 && status < 300,
          error,
          responseBody,
          durationMs: options.now() - startedAt,
        });
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        finish(null, `invalid webhook URL: ${url}`);
        return;
      }
      const client = target.protocol === 'https:' ? https : http;
      // No keep-alive: a pooled socket would keep the app's server from closing between tests.
      const req = client.request(target, { method: 'POST', headers, agent: false, timeout: options.timeoutMs });
      inFlight.add(req);
      req.on('timeout', () => req.destroy(new Error(`no response within ${options.timeoutMs} ms`)));
      req.on('error', (err) => {
        inFlight.delete(req);
        finish(null, closed ? 'fake stripe closed' : err.message);
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < RESPONSE_BODY_LIMIT) text += chunk;
        });
        res.on('error', (err) => {
          inFlight.delete(req);
          finish(res.statusCode ?? null, err.message, text.slice(0, RESPONSE_BODY_LIMIT));
        });
        res.on('end', () => {
          inFlight.delete(req);
          finish(res.statusCode ?? null, null, text.slice(0, RESPONSE_BODY_LIMIT));
        });
      });
      req.end(body);
    });
  }

  return {
    /** Delivers new events to a subscribed endpoint, or parks them while holding. */
    dispatch(events: StripeEvent[]): Promise<WebhookDelivery[]> {
      const wanted = events.filter((event) => subscribed(event.type));
      if (wanted.length === 0 || closed) return Promise.resolve([]);
      if (holding) {
        held.push(...wanted);
        return Promise.resolve([]);
      }
      return enqueue(wanted, signingMode);
    },

    /** Sends these events now, in this order, whatever was sent before (duplicates keep their id). */
    deliver(events: StripeEvent[], signing: SigningMode = signingMode): Promise<WebhookDelivery[]> {
      if (endpoint.url === null) throw new Error('fake stripe: no webhook endpoint configured');
      if (closed) return Promise.resolve([]);
      return enqueue(events, signing);
    },

    hold(): void {
      holding = true;
    },

    /**
     * Delivers held events. With a list of event ids: those, in that order (the rest stay held, and holding
     * continues). Otherwise: all of them in generation order or reversed, and holding stops.
     */
    release(order: ReleaseOrder = 'generated', signing: SigningMode = signingMode): Promise<WebhookDelivery[]> {
      let batch: StripeEvent[];
      if (Array.isArray(order)) {
        batch = order.map((id) => {
          const index = held.findIndex((event) => event.id === id);
          if (index === -1) throw new Error(`fake stripe: event ${id} is not held`);
          return held.splice(index, 1)[0] as StripeEvent;
        });
      } else {
        batch = held.splice(0, held.length);
        if (order === 'reverse') batch.reverse();
        holding = false;
      }
      return enqueue(batch, signing);
    },

    get held(): readonly StripeEvent[] {
      return held;
    },
    get holding(): boolean {
      return holding;
    },
    get deliveries(): readonly WebhookDelivery[] {
      return deliveries;
    },
    get endpoint(): WebhookEndpoint {
      return { ...endpoint };
    },
    get signingMode(): SigningMode {
      return signingMode;
    },

    setSigningMode(mode: SigningMode): void {
      signingMode = mode;
    },

    setEndpoint(next: { url: string | null; secret?: string }): void {
      endpoint = { url: next.url, secret: next.secret ?? endpoint.secret };
    },

    /** Subscribed to this type: the event's `pending_webhooks` is 1, else 0. */
    pendingFor(type: string): number {
      return subscribed(type) ? 1 : 0;
    },

    /** Resolves once everything queued so far has been delivered (or has failed). */
    idle(): Promise<void> {
      return queue.then(() => undefined);
    },

    /** Forgets deliveries and held events (not the endpoint or signing mode). */
    reset(): void {
      deliveries.length = 0;
      held.length = 0;
      holding = false;
      signingMode = 'valid';
    },

    close(): void {
      closed = true;
      stop.abort();
      held.length = 0;
      for (const req of inFlight) req.destroy();
      inFlight.clear();
    },
  };
}
export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;

/** The body and headers of one delivery, signed (or mis-signed on purpose) as `signing` says. */
function signedDelivery(
  event: StripeEvent,
  signing: SigningMode,
  endpointSecret: string,
  now: number,
): { headers: Record<string, string>; body: string } {
  // Stripe sends pretty-printed JSON; a handler that re-serialises the parsed body cannot verify it.
  const payload = JSON.stringify(event, null, 2);
  const timestamp = signing === 'stale-timestamp' ? now - STALE_BY_SECONDS : now;
  const secret = signing === 'wrong-secret' ? WRONG_SECRET : endpointSecret;
  const signature = signatureHeader(payload, secret, timestamp);
  const body = signing === 'tampered-body' ? payload.replace('"livemode": false', '"livemode": true') : payload;
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    accept: '*/*; q=0.5, application/xml',
    'cache-control': 'no-cache',
  };
  if (signing !== 'no-signature') headers['stripe-signature'] = signature;
  return { headers, body };
}
