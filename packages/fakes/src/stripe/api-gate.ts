// Scripted trouble on the `/v1` API, so tests can see how the app copes with a Stripe that is slow or failing:
// a hold parks matching requests until it is released (a Stripe call that takes as long as the test wants), and
// faults answer matching requests with an error before anything executes (an outage, a rate limit, a refused key).
import { compileRoutes } from './http-kit.js';
import { FakeStripeError, type StripeErrorType } from './stripe-error.js';

/** Which API requests a hold or a fault applies to; an omitted field matches anything. */
export interface ApiMatch {
  method?: string;
  /** A path with `:name` segments for ids, e.g. `/v1/checkout/sessions/:id`. */
  path?: string;
}

export interface ApiFault extends ApiMatch {
  status: number;
  /** `api_error` for a 5xx, `invalid_request_error` otherwise, unless given. */
  type?: StripeErrorType;
  message?: string;
  code?: string;
  /** How many matching requests get this answer (1 by default); later ones are handled normally. */
  times?: number;
  /**
   * Sent as `Stripe-Should-Retry`, which stripe-node obeys over its own rules: false makes the SDK give up at
   * once (a test need not sit through its backoff), true makes it retry even a 4xx.
   */
  shouldRetry?: boolean;
}

export interface FaultAnswer {
  error: FakeStripeError;
  headers: Record<string, string>;
}

type Matcher = (method: string, path: string) => boolean;

function matcherOf(match: ApiMatch): Matcher {
  const pattern = match.path === undefined ? undefined : compileRoutes([{ method: '', path: match.path, handle: () => undefined }])[0]?.pattern;
  const method = match.method?.toUpperCase();
  return (m, p) => (method === undefined || method === m) && (pattern === undefined || pattern.test(p));
}

const DEFAULT_MESSAGES: Record<number, string> = {
  401: 'Invalid API Key provided: sk_test_************************1234',
  403: 'The provided key does not have the required permissions for this endpoint.',
  429: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
};

export function createApiGate<T>() {
  let hold: Matcher | undefined;
  const parked: Array<{ request: T; release: () => void }> = [];
  const faults: Array<{ matches: Matcher; fault: ApiFault; remaining: number }> = [];

  function releaseAll(): void {
    for (const entry of parked.splice(0)) entry.release();
  }

  return {
    /** Requests parked by the hold right now, oldest first. */
    get held(): T[] {
      return parked.map((entry) => entry.request);
    },

    /** Parks every later request that matches until release(); replaces an earlier hold. */
    hold(match: ApiMatch = {}): void {
      hold = matcherOf(match);
    },

    /** Lets every parked request go on, and lifts the hold. */
    release(): void {
      hold = undefined;
      releaseAll();
    },

    /** Resolves at once, or when the hold that matches this request is released. */
    pass(method: string, path: string, request: T): Promise<void> {
      if (!hold?.(method, path)) return Promise.resolve();
      return new Promise((resolve) => parked.push({ request, release: resolve }));
    },

    addFault(fault: ApiFault): void {
      if (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599) {
        throw new Error('a fault status must be an HTTP error status (400-599)');
      }
      faults.push({ matches: matcherOf(fault), fault, remaining: Math.max(1, fault.times ?? 1) });
    },

    /** The scripted answer for this request, if a fault applies (and counts it). */
    faultFor(method: string, path: string): FaultAnswer | undefined {
      const index = faults.findIndex((entry) => entry.matches(method, path));
      const entry = faults[index];
      if (!entry) return undefined;
      entry.remaining -= 1;
      if (entry.remaining <= 0) faults.splice(index, 1);
      const { fault } = entry;
      const type = fault.type ?? (fault.status >= 500 ? 'api_error' : 'invalid_request_error');
      const message = fault.message ?? DEFAULT_MESSAGES[fault.status] ?? 'An unknown error occurred (scripted by the fake Stripe).';
      return {
        error: new FakeStripeError(fault.status, type, message, fault.code ?? null, null, true),
        headers: fault.shouldRetry === undefined ? {} : { 'stripe-should-retry': String(fault.shouldRetry) },
      };
    },

    /** Lifts the hold, lets parked requests go and forgets every fault. */
    reset(): void {
      faults.length = 0;
      hold = undefined;
      releaseAll();
    },
  };
}
export type ApiGate<T> = ReturnType<typeof createApiGate<T>>;
