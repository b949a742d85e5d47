import { APIPromise, withResponseOf, type WithResponse } from './api-promise.js';
import { APIConnectionError, APITimeoutError, GeminiChatError } from './errors.js';
import type { FetchLike } from './session.js';
import { sleep } from './sleep.js';

/** Options every call takes as its last argument. */
export interface RequestOptions {
  /** Aborts the call (and its retries); it then rejects with the signal's reason, never retried. */
  signal?: AbortSignal;
  /** Milliseconds per attempt before it is aborted as an `APITimeoutError` (default: the client's, 60 s). */
  timeout?: number;
  /** Extra headers for this call (over the client's). */
  headers?: Record<string, string>;
  /** Retries of this call when it is safe to repeat (default: the client's, 2). 0 turns them off. */
  maxRetries?: number;
}

/** Options of the calls that take an `Idempotency-Key` (sends, regenerations, imports). */
export interface IdempotentRequestOptions extends RequestOptions {
  /**
   * `Idempotency-Key`: a retry with the same key returns the original result, never a second message or charge.
   * Default: a fresh UUID per call, so the client retries it safely. `false`: none, and then no retries at all.
   */
  idempotencyKey?: string | false;
}

/** What the pipeline needs to build one request. */
export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path with its parameters filled in (each already URL-encoded). */
  path: string;
  query?: Record<string, string | number | boolean | null | undefined> | undefined;
  /** A JSON body, or a FormData sent as multipart. */
  body?: unknown;
  headers?: Record<string, string | undefined>;
  /** How to read a successful body: JSON (default), text, nothing (204), or leave it to the caller. */
  parseAs?: 'json' | 'text' | 'none' | 'stream';
  /** The `Idempotency-Key` this POST carries: it makes the request safe to repeat. */
  idempotencyKey?: string | undefined;
  /** Also retry 409 `CHATROOM_BUSY` (a reply in the chatroom is still being written). */
  retryBusy?: boolean | undefined;
}

export interface PipelineConfig {
  baseUrl: string;
  fetch: FetchLike;
  headers: Headers;
  timeout: number;
  maxRetries: number;
}

/** Longest `Retry-After` the client waits for; beyond it (a quota, an outage), it gives up and reports. */
const MAX_RETRY_AFTER_S = 60;
const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** A UUID for an Idempotency-Key; `crypto.randomUUID` is missing on insecure browser pages, so bytes are a fallback. */
export function newIdempotencyKey(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The key a call sends: the caller's, none with `false`, else a fresh one. */
export const idempotencyKeyOf = (options: IdempotentRequestOptions): string | undefined =>
  options.idempotencyKey === false ? undefined : (options.idempotencyKey ?? newIdempotencyKey());

/**
 * Whether an error answer is worth another attempt of a request that is safe to repeat, and after how long the
 * server asked (seconds), or `false`.
 */
function retryAfter(error: GeminiChatError, spec: RequestSpec): number | undefined | false {
  const { status, code } = error;
  const retryable =
    status === 408 ||
    (status === 429 && code !== 'QUOTA_EXCEEDED') ||
    status >= 500 ||
    (status === 409 && code === 'IDEMPOTENCY_KEY_IN_USE' && spec.idempotencyKey !== undefined) ||
    (status === 409 && code === 'CHATROOM_BUSY' && spec.retryBusy === true);
  if (!retryable) return false;
  if (error.retryAfterSeconds !== undefined && error.retryAfterSeconds > MAX_RETRY_AFTER_S) return false;
  return error.retryAfterSeconds;
}

/** Exponential backoff with jitter: ~0.5 s, 1 s, 2 s... up to 8 s, each up to a quarter shorter. */
const backoffMs = (retry: number) => Math.min(MAX_DELAY_MS, INITIAL_DELAY_MS * 2 ** retry) * (1 - Math.random() * 0.25);

function urlOf(config: PipelineConfig, spec: RequestSpec): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(spec.query ?? {})) {
    if (value !== undefined && value !== null) params.set(name, String(value));
  }
  const query = params.toString();
  return `${config.baseUrl.replace(/\/+$/, '')}${spec.path}${query ? `?${query}` : ''}`;
}

function buildRequest(config: PipelineConfig, spec: RequestSpec, options: RequestOptions, signal: AbortSignal): Request {
  const headers = new Headers(config.headers);
  let body: FormData | string | undefined;
  if (spec.body instanceof FormData) {
    body = spec.body; // fetch writes the multipart body and its boundary
  } else if (spec.body !== undefined) {
    body = JSON.stringify(spec.body);
    headers.set('content-type', 'application/json');
  }
  if (spec.parseAs !== 'stream' && spec.parseAs !== 'text' && !headers.has('accept')) headers.set('accept', 'application/json');
  for (const [name, value] of Object.entries(spec.headers ?? {})) if (value !== undefined) headers.set(name, value);
  if (spec.idempotencyKey !== undefined) headers.set('idempotency-key', spec.idempotencyKey);
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  return new Request(urlOf(config, spec), { method: spec.method, headers, ...(body !== undefined ? { body } : {}), signal });
}

async function parse(response: Response, spec: RequestSpec): Promise<unknown> {
  switch (spec.parseAs ?? 'json') {
    case 'stream':
      return response;
    case 'none':
      await response.body?.cancel().catch(() => undefined);
      return undefined;
    case 'text':
      return response.text();
    default: {
      const text = await response.text();
      return text === '' ? undefined : JSON.parse(text);
    }
  }
}

/**
 * The one request pipeline every namespace method goes through: build the request, send it with a per-attempt
 * timeout, and on failure decide whether to try again (only where repeating is safe: GET/HEAD/PUT/DELETE, and POSTs
 * with an Idempotency-Key), then read the answer into data or a typed error.
 */
export async function runRequest<T>(config: PipelineConfig, spec: RequestSpec, options: RequestOptions = {}): Promise<WithResponse<T>> {
  const maxRetries = options.maxRetries ?? config.maxRetries;
  const timeout = options.timeout ?? config.timeout;
  const repeatable = SAFE_METHODS.has(spec.method) || spec.idempotencyKey !== undefined;
  const caller = options.signal;

  for (let retry = 0; ; retry++) {
    caller?.throwIfAborted();
    const attempt = new AbortController();
    const onAbort = () => attempt.abort(caller?.reason);
    caller?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(new APITimeoutError(timeout));
    }, timeout);
    let failure: GeminiChatError | undefined;
    let waitSeconds: number | undefined;
    let bodyLeftToCaller = false;
    try {
      const response = await config.fetch(buildRequest(config, spec, options, attempt.signal));
      if (response.ok || response.status === 304) {
        // The timeout covers reading the body too, except for a stream left to the caller.
        const data = (await parse(response, spec).catch((err: unknown) => {
          if (!(err instanceof SyntaxError)) throw err; // the body was cut: a connection failure
          throw (failure = GeminiChatError.from(response.status, `Unreadable response: ${err.message}`, response.headers));
        })) as T;
        bodyLeftToCaller = spec.parseAs === 'stream';
        return withResponseOf(data, response);
      }
      failure = await GeminiChatError.fromResponse(response);
      const after = retryAfter(failure, spec);
      if (after === false || !repeatable || retry >= maxRetries) throw failure;
      waitSeconds = after;
    } catch (err) {
      if (caller?.aborted) throw caller.reason;
      if (failure !== undefined && err === failure) throw err;
      // An error the session raised (a refused refresh) is an answer, not a connection failure.
      if (err instanceof GeminiChatError && !(err instanceof APIConnectionError)) throw err;
      const lost = timedOut ? new APITimeoutError(timeout) : new APIConnectionError({ cause: err });
      if (!repeatable || retry >= maxRetries) throw lost;
    } finally {
      clearTimeout(timer);
      // The caller's signal still cancels a body it has yet to read.
      if (!bodyLeftToCaller) caller?.removeEventListener('abort', onAbort);
    }
    const delay = waitSeconds !== undefined ? Math.max(waitSeconds * 1000, 0) : backoffMs(retry);
    await sleep(delay, caller);
  }
}

/** `runRequest` as an `APIPromise` of its data. */
export const request = <T>(config: PipelineConfig, spec: RequestSpec, options?: RequestOptions): APIPromise<T> =>
  new APIPromise<T>(runRequest<T>(config, spec, options));
