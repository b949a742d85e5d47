// Errors in Stripe's wire shape: `{ error: { type, code, message, param, doc_url } }` with the HTTP status
// stripe-node maps to its typed errors (400/404 → StripeInvalidRequestError or StripeIdempotencyError,
// 401 → StripeAuthenticationError, …).

export type StripeErrorType = 'invalid_request_error' | 'idempotency_error' | 'api_error' | 'card_error';

export class FakeStripeError extends Error {
  constructor(
    readonly status: number,
    readonly type: StripeErrorType,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /**
     * Stripe saves an idempotent result only once an endpoint has started executing; a request that fails
     * parameter validation is not saved, so fixing the parameters and retrying with the same key works.
     */
    readonly beforeExecution = false,
  ) {
    super(message);
    this.name = 'FakeStripeError';
  }

  toBody(): { error: Record<string, string> } {
    const error: Record<string, string> = { message: this.message, type: this.type };
    if (this.code) {
      error.code = this.code;
      error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replace(/_/g, '-')}`;
    }
    if (this.param) error.param = this.param;
    return { error };
  }
}

const invalid = (status: number, message: string, code: string | null, param: string | null, beforeExecution: boolean) =>
  new FakeStripeError(status, 'invalid_request_error', message, code, param, beforeExecution);

/** A path id that does not exist: 404, as for `GET /v1/customers/cus_missing`. */
export const noSuchObject = (kind: string, id: string, param = 'id') =>
  invalid(404, `No such ${kind}: '${id}'`, 'resource_missing', param, false);

/** A parameter that references a missing object: 400, as for `customer=cus_missing` on a create. */
export const noSuchReference = (kind: string, id: string, param: string) =>
  invalid(400, `No such ${kind}: '${id}'`, 'resource_missing', param, true);

export const parameterMissing = (param: string) =>
  invalid(400, `Missing required param: ${param}.`, 'parameter_missing', param, true);

export const parameterUnknown = (param: string, detail?: string) =>
  invalid(400, detail ?? `Received unknown parameter: ${param}`, 'parameter_unknown', param, true);

export const parameterInvalid = (param: string, message: string, code: string | null = null) =>
  invalid(400, message, code, param, true);

export const parametersExclusive = (params: string[]) =>
  invalid(400, `You may only specify one of these parameters: ${params.join(', ')}.`, 'parameters_exclusive', params[0] ?? null, true);

/** A valid request the object's state does not allow (e.g. expiring a completed session). */
export const invalidState = (message: string, param: string | null = null) => invalid(400, message, null, param, false);

export const unrecognizedUrl = (method: string, path: string) =>
  invalid(
    404,
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    null,
    null,
    true,
  );
