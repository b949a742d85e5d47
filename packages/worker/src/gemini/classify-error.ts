import { ApiError } from '@google/genai';
import { dependencyOf, type ReplyFailureCode } from '@gemini-chat/shared';

/** What the worker does about a failure: retry later (honouring a delay when Gemini gives one) or give up now. */
export interface ReplyFailure {
  retryable: boolean;
  /** Stable code stored on the failed message (`error.code`), from the shared catalog the API's spec states. */
  code: ReplyFailureCode;
  /** Human-readable, safe to show to the user. */
  message: string;
  retryDelayMs?: number;
  /** Label for metrics. */
  errorClass: 'rate_limited' | 'unavailable' | 'server_error' | 'timeout' | 'network' | 'bad_request' | 'auth' | 'blocked' | 'internal';
}

/** Thrown by the worker itself for outcomes that are not transport errors (blocked prompt, stalled stream...). */
export class ReplyError extends Error {
  constructor(readonly failure: ReplyFailure) {
    super(failure.message);
    this.name = 'ReplyError';
  }
}

export const timeoutFailure = (what: string): ReplyFailure => ({
  retryable: true,
  code: 'MODEL_TIMEOUT',
  message: `The model did not answer in time (${what}).`,
  errorClass: 'timeout',
});

interface GoogleErrorBody {
  error?: { code?: number; status?: string; message?: string; details?: Array<Record<string, unknown>> };
}

/** Google puts the error body, JSON-encoded, in ApiError.message (sometimes nested once more as a string). */
function googleBody(err: ApiError): GoogleErrorBody['error'] {
  try {
    const outer = (JSON.parse(err.message) as GoogleErrorBody).error;
    if (outer && typeof outer.message === 'string' && outer.message.trim().startsWith('{')) {
      try {
        return (JSON.parse(outer.message) as GoogleErrorBody).error ?? outer;
      } catch {
        return outer;
      }
    }
    return outer;
  } catch {
    return undefined;
  }
}

function retryDelayOf(body: GoogleErrorBody['error']): number | undefined {
  const info = body?.details?.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo');
  const delay = typeof info?.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(info.retryDelay) : null;
  return delay ? Math.round(Number(delay[1]) * 1000) : undefined;
}

// Gemini's answer to a fileData part naming a file it does not have (expired, deleted, another project's):
// 403 PERMISSION_DENIED "You do not have permission to access the File {id} or it may not exist."
const MISSING_FILE = /\bFile (?:(?:files\/)?([a-z0-9-]+) )?or it may not exist/i;

/**
 * When a generate call failed because Gemini no longer has a file the prompt names: which one (its id, without
 * `files/`; undefined when the message does not say). Undefined for any other error.
 */
export function missingGeminiFileOf(err: unknown): { fileId: string | undefined } | undefined {
  if (!(err instanceof ApiError) || err.status !== 403) return undefined;
  const message = googleBody(err)?.message ?? err.message;
  const match = MISSING_FILE.exec(message);
  if (!match) return undefined;
  return { fileId: match[1] };
}

/** Sorts any error from a Gemini call into retry-later or give-up-now, with a user-safe message. */
export function classifyError(err: unknown): ReplyFailure {
  if (err instanceof ReplyError) return err.failure;
  if (err instanceof ApiError) {
    const body = googleBody(err);
    const status = err.status;
    if (status === 429) {
      const retryDelayMs = retryDelayOf(body);
      return {
        retryable: true,
        code: 'MODEL_RATE_LIMITED',
        message: 'The model is receiving too many requests; the reply will be retried.',
        errorClass: 'rate_limited',
        ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
      };
    }
    if (status === 503 || status === 502 || status === 504) {
      const retryDelayMs = retryDelayOf(body);
      return {
        retryable: true,
        code: 'MODEL_UNAVAILABLE',
        message: 'The model is temporarily unavailable.',
        errorClass: 'unavailable',
        ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
      };
    }
    if (status >= 500) return { retryable: true, code: 'MODEL_ERROR', message: 'The model failed to answer.', errorClass: 'server_error' };
    if (missingGeminiFileOf(err)) {
      // Reached only once a fresh upload was refused too: not a question of time.
      return { retryable: false, code: 'ATTACHMENT_UNAVAILABLE', message: 'An attachment could not be read by the model.', errorClass: 'bad_request' };
    }
    if (status === 401 || status === 403) {
      return { retryable: false, code: 'MODEL_AUTH_FAILED', message: 'The service is not authorised to use the model.', errorClass: 'auth' };
    }
    if (status === 408) return { ...timeoutFailure('request timeout'), errorClass: 'timeout' };
    return {
      retryable: false,
      code: 'MODEL_REJECTED_REQUEST',
      message: `The model rejected the request${body?.message ? `: ${body.message.slice(0, 300)}` : '.'}`,
      errorClass: 'bad_request',
    };
  }
  const name = (err as { name?: string })?.name;
  if (name === 'TimeoutError') return timeoutFailure('overall limit');
  // Our own Postgres or Redis briefly unreachable (or the pool saturated): transient, so retried like a 503.
  if (dependencyOf(err)) {
    return { retryable: true, code: 'SERVICE_UNAVAILABLE', message: 'A backing service was briefly unavailable.', errorClass: 'internal' };
  }
  // Connection refused or cut mid-stream, truncated SSE: transient, so retried.
  const message = String((err as { message?: string })?.message ?? '');
  if (err instanceof TypeError || /fetch failed|terminated|socket|ECONN|EPIPE|Incomplete JSON|network/i.test(message)) {
    return { retryable: true, code: 'MODEL_CONNECTION_FAILED', message: 'The connection to the model failed.', errorClass: 'network' };
  }
  return { retryable: false, code: 'INTERNAL_ERROR', message: 'The reply could not be generated.', errorClass: 'internal' };
}
