import Stripe from 'stripe';
import { DependencyUnavailableError, type Config } from '@gemini-chat/shared';

const TIMEOUT_MS = 10_000;
// Stripe's own advice: retry network failures and 409/429/5xx; stripe-node sends an idempotency key with each
// retried POST, so a retry never creates a second object.
const MAX_NETWORK_RETRIES = 2;
// No answer at all (refused, reset, timed out) or told to slow down: Stripe is out of reach for now.
const UNREACHABLE_TYPES = new Set(['StripeConnectionError', 'StripeRateLimitError']);

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

/**
 * Stripe refused one of our requests for a reason a retry will not fix: a price or object it does not know, a key
 * it rejects or that lacks a permission, parameters it does not take. That is our configuration or our bug, so
 * the client gets a plain 500. Stripe's status is deliberately not a `statusCode` here: passed on, a 401 for our
 * key would read as the client's own expired token. Stripe's message (which may quote part of the key) goes to
 * our log only, through this error's message.
 */
export class StripeRequestError extends Error {
  declare readonly cause: Stripe.errors.StripeError;

  constructor(stripeError: Stripe.errors.StripeError) {
    const { type, statusCode, code, requestId } = stripeError;
    super(
      `Stripe refused a request: ${type}, HTTP ${statusCode ?? 'none'}${code ? `, ${code}` : ''}, ${requestId ?? 'no request id'}: ${stripeError.message}`,
      { cause: stripeError },
    );
    this.name = 'StripeRequestError';
  }
}

/** True when Stripe cannot serve us now but will shortly: worth a 503 and a retry, not a 500. */
function isOutage(err: Stripe.errors.StripeError): boolean {
  if (UNREACHABLE_TYPES.has(err.type)) return true;
  const status = err.statusCode;
  // An answer that was not Stripe's JSON (a proxy's error page, a cut-off body) has no status.
  if (status === undefined) return err.type === 'StripeAPIError';
  // 409: the same idempotency key is still executing (or an object is locked); Stripe says to retry.
  return status >= 500 || status === 409 || status === 429;
}

/**
 * What a Stripe SDK error means for our caller: DependencyUnavailableError (503, Retry-After) for an outage,
 * StripeRequestError (500) for anything else. Undefined for errors that are not Stripe's.
 */
export function translateStripeError(err: unknown): DependencyUnavailableError | StripeRequestError | undefined {
  if (!(err instanceof Stripe.errors.StripeError)) return undefined;
  return isOutage(err) ? new DependencyUnavailableError('stripe', err) : new StripeRequestError(err);
}

/** True for Stripe's "no such object" answer (a 404), which no retry will change. */
export function isStripeNotFound(err: unknown): boolean {
  const stripeError = err instanceof StripeRequestError ? err.cause : err;
  return stripeError instanceof Stripe.errors.StripeError && (stripeError.statusCode === 404 || stripeError.code === 'resource_missing');
}

/** Runs a Stripe call; a Stripe error leaves it translated (see translateStripeError), never as the SDK threw it. */
export async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw translateStripeError(err) ?? err;
  }
}
