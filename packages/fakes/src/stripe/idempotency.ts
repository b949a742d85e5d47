// Stripe's v1 idempotency: the first POST with a given `Idempotency-Key` saves its status and body (errors
// included, once the endpoint has started executing); a retry with the same key and the same parameters
// gets that saved response back with `Idempotent-Replayed: true`, and the same key with other parameters or
// another endpoint is a 400 `idempotency_error`. Keys are per account (here: per API key) and live 24 hours.
// A second request with a key whose first request is still executing is a 409 `idempotency_key_in_use`, saved
// nowhere, which stripe-node retries after a backoff.
import type { FormObject } from './form-encoding.js';
import { FakeStripeError } from './stripe-error.js';

const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
const MAX_KEY_LENGTH = 255;

export interface SavedResponse {
  status: number;
  body: string;
  requestId: string;
}

interface Entry {
  endpoint: string;
  params: string;
  response: SavedResponse;
  savedAt: number;
}

export type IdempotencyLookup = { kind: 'miss' } | { kind: 'replay'; response: SavedResponse };

export function createIdempotencyStore(now: () => number) {
  const entries = new Map<string, Entry>();
  const executing = new Set<string>();

  const storeKey = (apiKey: string, key: string) => `${apiKey}\u0000${key}`;

  return {
    /** Throws the `idempotency_error` for a key reused with different parameters or on another endpoint. */
    lookup(apiKey: string, key: string, endpoint: string, params: FormObject): IdempotencyLookup {
      if (key.length > MAX_KEY_LENGTH) {
        throw new FakeStripeError(
          400,
          'invalid_request_error',
          `Invalid idempotency key: the key must be at most ${MAX_KEY_LENGTH} characters long.`,
          null,
          null,
          true,
        );
      }
      const entry = entries.get(storeKey(apiKey, key));
      if (!entry) return { kind: 'miss' };
      if (now() - entry.savedAt > KEY_LIFETIME_MS) {
        entries.delete(storeKey(apiKey, key));
        return { kind: 'miss' };
      }
      if (entry.endpoint !== endpoint) {
        throw new FakeStripeError(
          400,
          'idempotency_error',
          `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${entry.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
          null,
          null,
          true,
        );
      }
      if (entry.params !== canonical(params)) {
        throw new FakeStripeError(
          400,
          'idempotency_error',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          null,
          null,
          true,
        );
      }
      return { kind: 'replay', response: entry.response };
    },

    /** Marks the key's first request as executing; throws `idempotency_key_in_use` while another one is. */
    begin(apiKey: string, key: string): void {
      const id = storeKey(apiKey, key);
      if (executing.has(id)) {
        throw new FakeStripeError(
          409,
          'idempotency_error',
          'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please try again later.',
          'idempotency_key_in_use',
          null,
          true,
        );
      }
      executing.add(id);
    },

    end(apiKey: string, key: string): void {
      executing.delete(storeKey(apiKey, key));
    },

    save(apiKey: string, key: string, endpoint: string, params: FormObject, response: SavedResponse): void {
      entries.set(storeKey(apiKey, key), { endpoint, params: canonical(params), response, savedAt: now() });
    },

    reset(): void {
      entries.clear();
      executing.clear();
    },
  };
}
export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;

/** Parameter order on the wire does not matter, only the values. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
