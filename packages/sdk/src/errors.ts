import type { components } from './schema.js';

/** An RFC 9457 problem document, as every error response of the API carries (`application/problem+json`). */
export type Problem = components['schemas']['Problem'];
/** One field problem of a 400 `VALIDATION_FAILED`. */
export type FieldError = components['schemas']['FieldError'];

/** Codes the client itself sets when there is no problem document to read one from. */
export type ClientErrorCode =
  /** The response was not a problem document (e.g. an HTML page from a proxy). */
  | 'UNEXPECTED_RESPONSE'
  /** No response: the connection failed or was cut. */
  | 'CONNECTION_ERROR'
  /** No response within the request's `timeout`. */
  | 'TIMEOUT';

/**
 * Every code an error can carry: the contract's codes (`Problem.code`, generated from the API's spec) and the
 * client's own. Keep a `default` branch when you switch on it: a newer server may add codes.
 */
export type ErrorCode = Problem['code'] | ClientErrorCode;

// Shared by every copy of the package loaded in one process (two versions, ESM and CJS): `instanceof` is not.
const BRAND = Symbol.for('@gemini-chat/sdk.GeminiChatError');

const isProblem = (body: unknown): body is Partial<Problem> & { code: string } =>
  typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string';

/** Seconds from a problem's `retryAfterSeconds`, else a `Retry-After` header (seconds or an HTTP date). */
function retryAfterOf(problem: Partial<Problem> | undefined, headers: Headers | undefined): number | undefined {
  if (typeof problem?.retryAfterSeconds === 'number') return problem.retryAfterSeconds;
  const header = headers?.get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/**
 * Any error of the SDK: an error answer of the API (built from its problem document), or no answer at all
 * (`APIConnectionError`, `APITimeoutError`). Switch on `code`, or catch a subclass; log `requestId`.
 */
export class GeminiChatError extends Error {
  override name = 'GeminiChatError';
  /** HTTP status; 0 when there was no response (connection error, timeout). */
  readonly status: number;
  /** Stable UPPER_SNAKE identifier (`QUOTA_EXCEEDED`, `CHATROOM_NOT_FOUND`, `TIMEOUT`, ...). */
  readonly code: ErrorCode;
  /** Human-readable explanation of this occurrence. */
  readonly detail: string;
  /** The request id the server logged (body `requestId`, else the `X-Request-Id` header). */
  readonly requestId: string | undefined;
  /** Field problems of a 400 `VALIDATION_FAILED` (empty otherwise). */
  readonly errors: FieldError[];
  /** Seconds to wait before trying again (429 and 503): the problem's `retryAfterSeconds` or `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;
  /** The whole problem document, including members not listed above (e.g. `attemptsRemaining`). */
  readonly problem: Problem | undefined;
  /** The response headers (empty when there was no response). */
  readonly headers: Headers;

  constructor(status: number, body: unknown, headers?: Headers, options?: { cause?: unknown }) {
    const problem = isProblem(body) ? body : undefined;
    const code = (problem?.code ?? 'UNEXPECTED_RESPONSE') as ErrorCode;
    const detail = problem?.detail ?? (typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`);
    super(`${code}: ${detail}`, options);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.headers = headers ?? new Headers();
    this.requestId = problem?.requestId ?? headers?.get('x-request-id') ?? undefined;
    this.errors = problem?.errors ?? [];
    this.retryAfterSeconds = retryAfterOf(problem, headers);
    this.problem = problem as Problem | undefined;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** The error of this status and code: `NotFoundError` for a 404, `QuotaExceededError` for 429 `QUOTA_EXCEEDED`... */
  static from(status: number, body: unknown, headers?: Headers): GeminiChatError {
    const Class = errorClassFor(status, isProblem(body) ? body.code : undefined);
    return new Class(status, body, headers);
  }

  /** Reads a failed response's body (JSON problem or anything else) into an error of the right subclass. */
  static async fromResponse(response: Response): Promise<GeminiChatError> {
    const text = await response.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return GeminiChatError.from(response.status, body, response.headers);
  }
}

/** 400: the request is malformed or fails validation (`VALIDATION_FAILED`: see `errors`). */
export class BadRequestError extends GeminiChatError {
  override name = 'BadRequestError';
}
/** 401: not signed in, expired or revoked credentials (a refused refresh carries the refresh's own code). */
export class AuthenticationError extends GeminiChatError {
  override name = 'AuthenticationError';
}
/** 403: signed in, but not allowed (`API_KEY_NOT_ALLOWED`, `MODEL_NOT_ALLOWED`...). */
export class PermissionDeniedError extends GeminiChatError {
  override name = 'PermissionDeniedError';
}
/** 404: no such resource, or not the caller's. */
export class NotFoundError extends GeminiChatError {
  override name = 'NotFoundError';
}
/** 409: the resource's state refuses it (`CHATROOM_BUSY`, `IDEMPOTENCY_KEY_IN_USE`, `ALREADY_SUBSCRIBED`...). */
export class ConflictError extends GeminiChatError {
  override name = 'ConflictError';
}
/** 422: well-formed but not processable (`PDF_TOO_MANY_PAGES`...). */
export class UnprocessableEntityError extends GeminiChatError {
  override name = 'UnprocessableEntityError';
}
/** 429: too many requests; `retryAfterSeconds` says when to try again. */
export class RateLimitError extends GeminiChatError {
  override name = 'RateLimitError';
}
/** 429 `QUOTA_EXCEEDED`: the day's prompts are used up. Never retried by the client: it resets in hours. */
export class QuotaExceededError extends RateLimitError {
  override name = 'QuotaExceededError';
  /** When the quota resets (the answer's `Retry-After` from when it arrived), if the server said. */
  readonly resetsAt: Date | undefined;
  constructor(status: number, body: unknown, headers?: Headers) {
    super(status, body, headers);
    this.resetsAt = this.retryAfterSeconds === undefined ? undefined : new Date(Date.now() + this.retryAfterSeconds * 1000);
  }
}
/** 5xx: the server failed. */
export class InternalServerError extends GeminiChatError {
  override name = 'InternalServerError';
}
/** 503: a dependency is unavailable; `retryAfterSeconds` says when to try again. */
export class ServiceUnavailableError extends InternalServerError {
  override name = 'ServiceUnavailableError';
}

/** No response: the connection failed or was cut (`cause` is what `fetch` threw). */
export class APIConnectionError extends GeminiChatError {
  override name = 'APIConnectionError';
  constructor(options: { cause?: unknown; code?: 'CONNECTION_ERROR' | 'TIMEOUT'; detail?: string } = {}) {
    const code = options.code ?? 'CONNECTION_ERROR';
    const reason = options.cause instanceof Error ? options.cause.message : undefined;
    super(0, { code, detail: options.detail ?? (reason ? `Connection error: ${reason}` : 'Connection error.') }, undefined, { cause: options.cause });
  }
}
/** No response within the request's `timeout` (retried like a connection error where that is safe). */
export class APITimeoutError extends APIConnectionError {
  override name = 'APITimeoutError';
  constructor(timeoutMs: number) {
    super({ code: 'TIMEOUT', detail: `No response within ${timeoutMs} ms.` });
  }
}

function errorClassFor(status: number, code: string | undefined): new (status: number, body: unknown, headers?: Headers) => GeminiChatError {
  switch (status) {
    case 400:
      return BadRequestError;
    case 401:
      return AuthenticationError;
    case 403:
      return PermissionDeniedError;
    case 404:
      return NotFoundError;
    case 409:
      return ConflictError;
    case 422:
      return UnprocessableEntityError;
    case 429:
      return code === 'QUOTA_EXCEEDED' ? QuotaExceededError : RateLimitError;
    case 503:
      return ServiceUnavailableError;
    default:
      return status >= 500 ? InternalServerError : GeminiChatError;
  }
}

/**
 * Whether `value` is an error of this SDK — from any copy of the package loaded in the process (two versions, or
 * ESM and CommonJS), which `instanceof GeminiChatError` cannot tell.
 */
export function isGeminiChatError(value: unknown): value is GeminiChatError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The result of an `openapi-fetch` call: what `client.api.GET(...)` and friends resolve to. */
export interface ApiResult<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful `client.api` call, or a thrown `GeminiChatError` (of the status's subclass):
 * `const room = await unwrap(client.api.POST('/chatroom', { body: {} }))`.
 */
export async function unwrap<Data>(call: Promise<ApiResult<Data>> | ApiResult<Data>): Promise<Data> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) throw GeminiChatError.from(response.status, error, response.headers);
  return data as Data;
}
