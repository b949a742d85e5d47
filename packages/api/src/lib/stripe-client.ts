import Stripe from 'stripe';
import { DependencyUnavailableError, type Config } from '@gemini-chat/shared';

const TIMEOUT_MS = 10_000;
// Stripe's own advice: retry network failures and 409/429/5xx; stripe-node sends an idempotency key with each
// retried POST, so a retry never creates a second object.
const MAX_NETWORK_RETRIES = 2;
// Answers that mean "Stripe is unreachable or overloaded right now", worth a 503 and a retry later.
const OUTAGE_TYPES = new Set(['StripeConnectionError', 'StripeAPIError', 'StripeRateLimitError']);

/** The process's Stripe SDK, or undefined when billing is off (no STRIPE_SECRET_KEY). */
export function createStripeClient(config: Config['billing']): Stripe | undefined {
  if (!config.stripe) return undefined;
  return new Stripe(config.stripe.secretKey, {
    // STRIPE_API_BASE_URL: the local fake in development and tests.
    ...(config.stripe.api ?? {}),
    maxNetworkRetries: MAX_NETWORK_RETRIES,
    timeout: TIMEOUT_MS,
    telemetry: false,
    appInfo: { name: 'gemini-chat' },
  });
}

/** True for Stripe's "no such object" answer (a 404), which no retry will change. */
export function isStripeNotFound(err: unknown): boolean {
  return err instanceof Stripe.errors.StripeError && (err.statusCode === 404 || err.code === 'resource_missing');
}

/**
 * Runs a Stripe call; an outage (no connection, timeout, 5xx, rate limit) becomes DependencyUnavailableError so the
 * error handler answers 503 with Retry-After. Other Stripe errors (bad parameters, wrong key) stay 500s: retrying
 * will not fix them, and their messages are not for clients.
 */
export async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError && (OUTAGE_TYPES.has(err.type) || (err.statusCode ?? 0) >= 500)) {
      throw new DependencyUnavailableError('stripe', err);
    }
    throw err;
  }
}
