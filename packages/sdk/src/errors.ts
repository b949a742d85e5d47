import type { components } from './schema.js';

/** An RFC 9457 problem document, as every error response of the API carries (`application/problem+json`). */
export type Problem = components['schemas']['Problem'];
/** One field problem of a 400 `VALIDATION_FAILED`. */
export type FieldError = components['schemas']['FieldError'];

/**
 * The stable codes the API answers with today. The list is open (`string & {}`): a newer server may send codes this
 * version does not know, so keep a default branch when you switch on `code`.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_JSON'
  | 'BAD_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'ROUTE_NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'TOKEN_EXPIRED'
  | 'SESSION_REVOKED'
  | 'INVALID_CREDENTIALS'
  | 'REFRESH_TOKEN_INVALID'
  | 'REFRESH_TOKEN_REUSED'
  | 'MOBILE_NUMBER_TAKEN'
  | 'OTP_INVALID'
  | 'OTP_EXPIRED'
  | 'OTP_LOCKED'
  | 'OTP_RESEND_TOO_SOON'
  | 'OTP_SEND_LIMIT'
  | 'CURRENT_PASSWORD_REQUIRED'
  | 'CURRENT_PASSWORD_INCORRECT'
  | 'RATE_LIMITED'
  | 'CHATROOM_NOT_FOUND'
  | 'MESSAGE_NOT_FOUND'
  | 'USER_NOT_FOUND'
  | 'INVALID_CURSOR'
  | 'CHATROOM_BUSY'
  | 'NOT_A_REPLY'
  | 'REPLY_ALREADY_FINISHED'
  | 'REPLY_NOT_FINISHED'
  | 'PARENT_NOT_A_REPLY'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_KEY_IN_USE'
  | 'QUOTA_EXCEEDED'
  /** A model the caller's tier may not use (403) or does not exist (400): sent once chatrooms take a model. */
  | 'MODEL_NOT_ALLOWED'
  | 'MODEL_UNKNOWN'
  /** Files: uploads, downloads and prompts that carry them. */
  | 'FILE_NOT_FOUND'
  | 'FILE_TOO_LARGE'
  | 'FILE_TYPE_MISMATCH'
  | 'EMPTY_FILE'
  | 'PDF_TOO_MANY_PAGES'
  | 'STORAGE_QUOTA_EXCEEDED'
  | 'MULTIPART_INVALID'
  | 'FILE_PART_MISSING'
  | 'TOO_MANY_FILES'
  | 'RANGE_NOT_SATISFIABLE'
  | 'ATTACHMENT_NOT_SUPPORTED'
  | 'ALREADY_SUBSCRIBED'
  | 'NO_BILLING_ACCOUNT'
  | 'BILLING_NOT_CONFIGURED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR'
  /** The response was not a problem document (e.g. an HTML page from a proxy). */
  | 'UNEXPECTED_RESPONSE'
  | (string & {});

const isProblem = (body: unknown): body is Partial<Problem> & { code: string } =>
  typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string';

/** An error answer of the API, built from its problem document. Switch on `code`; log `requestId`. */
export class GeminiChatError extends Error {
  override readonly name = 'GeminiChatError';
  /** HTTP status. */
  readonly status: number;
  /** Stable UPPER_SNAKE identifier (`QUOTA_EXCEEDED`, `CHATROOM_NOT_FOUND`, ...). */
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

  constructor(status: number, body: unknown, headers?: Headers) {
    const problem = isProblem(body) ? body : undefined;
    const code = problem?.code ?? 'UNEXPECTED_RESPONSE';
    const detail = problem?.detail ?? (typeof body === 'string' && body ? body.slice(0, 200) : `HTTP ${status}`);
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.requestId = problem?.requestId ?? headers?.get('x-request-id') ?? undefined;
    this.errors = problem?.errors ?? [];
    const retryAfter = Number(headers?.get('retry-after') ?? Number.NaN);
    this.retryAfterSeconds = problem?.retryAfterSeconds ?? (Number.isFinite(retryAfter) ? retryAfter : undefined);
    this.problem = problem as Problem | undefined;
  }

  /** Reads a failed response's body (JSON problem or anything else) into an error. */
  static async fromResponse(response: Response): Promise<GeminiChatError> {
    const text = await response.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return new GeminiChatError(response.status, body, response.headers);
  }
}

/** The result of an `openapi-fetch` call: what `client.api.GET(...)` and friends resolve to. */
export interface ApiResult<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful `client.api` call, or a thrown `GeminiChatError`:
 * `const room = await unwrap(client.api.POST('/chatroom', { body: {} }))`.
 */
export async function unwrap<Data>(call: Promise<ApiResult<Data>> | ApiResult<Data>): Promise<Data> {
  const { data, error, response } = await call;
  if (!response.ok || error !== undefined) throw new GeminiChatError(response.status, error, response.headers);
  return data as Data;
}
