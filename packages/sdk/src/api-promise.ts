/** The quota the API reports on prompt sends (IETF `RateLimit-*` headers); `undefined` members were not sent. */
export interface RateLimitInfo {
  /** Prompts a day on the caller's plan (`RateLimit-Limit`). */
  limit: number | undefined;
  /** Prompts left today (`RateLimit-Remaining`). */
  remaining: number | undefined;
  /** Seconds until the quota resets (`RateLimit-Reset`). */
  reset: number | undefined;
}

/** A call's result with what came with it. */
export interface WithResponse<T> {
  data: T;
  /** The HTTP response (its body already read, except for downloads). */
  response: Response;
  status: number;
  headers: Headers;
  /** `X-Request-Id`: the id the server logged the request under. */
  requestId: string | undefined;
  rateLimit: RateLimitInfo;
}

const numberHeader = (headers: Headers, name: string): number | undefined => {
  const value = headers.get(name);
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
};

export function rateLimitOf(headers: Headers): RateLimitInfo {
  return {
    limit: numberHeader(headers, 'ratelimit-limit'),
    remaining: numberHeader(headers, 'ratelimit-remaining'),
    reset: numberHeader(headers, 'ratelimit-reset'),
  };
}

export function withResponseOf<T>(data: T, response: Response): WithResponse<T> {
  return {
    data,
    response,
    status: response.status,
    headers: response.headers,
    requestId: response.headers.get('x-request-id') ?? undefined,
    rateLimit: rateLimitOf(response.headers),
  };
}

/**
 * What every call returns: a promise of the data (`await client.chatrooms.get(id)`), with `.withResponse()` for the
 * status, headers, request id and quota too, and `.asResponse()` for the raw `Response`. The request starts when the
 * call is made, not when the promise is awaited.
 */
export class APIPromise<T> implements Promise<T> {
  readonly [Symbol.toStringTag] = 'APIPromise';
  readonly #result: Promise<WithResponse<T>>;

  constructor(result: Promise<WithResponse<T>>) {
    this.#result = result;
    // Rejections surface where the caller awaits; this copy is never the only handler left unawaited.
    result.catch(() => undefined);
  }

  /** The data with the response it came in: `{ data, response, status, headers, requestId, rateLimit }`. */
  withResponse(): Promise<WithResponse<T>> {
    return this.#result;
  }

  /** The `Response` itself (its body already read into the data, except for downloads). */
  asResponse(): Promise<Response> {
    return this.#result.then((r) => r.response);
  }

  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#result.then((r) => r.data).then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }
}
