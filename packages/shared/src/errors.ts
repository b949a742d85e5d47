// One typed error for everything a client may see; the API's single error handler turns it into an
// RFC 9457 problem response. Anything that is not an AppError is a 500 (or a 503 for a dependency outage).
import type { ErrorCode } from './error-codes.js';

export interface FieldError {
  in: 'body' | 'query' | 'params' | 'headers';
  field: string;
  message: string;
}

export interface QuotaState {
  used: number;
  /** null when the tier is unlimited. */
  limit: number | null;
  resetsAt: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly extra: {
      errors?: FieldError[];
      retryAfterSeconds?: number;
      /** Extra members of the problem object (e.g. attemptsRemaining). */
      fields?: Record<string, unknown>;
      /** The caller's daily prompt quota, which the HTTP layer states in RateLimit-* headers (QUOTA_EXCEEDED). */
      quota?: QuotaState;
    } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** What can be "not found", each with its catalogued code. */
const NOT_FOUND_CODES = {
  chatroom: 'CHATROOM_NOT_FOUND',
  message: 'MESSAGE_NOT_FOUND',
  user: 'USER_NOT_FOUND',
  file: 'FILE_NOT_FOUND',
  share: 'SHARE_NOT_FOUND',
  'API key': 'API_KEY_NOT_FOUND',
} as const satisfies Record<string, ErrorCode>;

export const notFound = (what: keyof typeof NOT_FOUND_CODES) =>
  new AppError(404, NOT_FOUND_CODES[what], `${what.charAt(0).toUpperCase()}${what.slice(1)} not found.`);
export const unauthorized = (message = 'Missing or invalid access token.', code: ErrorCode = 'UNAUTHORIZED') => new AppError(401, code, message);
export const conflict = (code: ErrorCode, message: string) => new AppError(409, code, message);
export const badRequest = (code: ErrorCode, message: string, fields?: Record<string, unknown>) =>
  new AppError(400, code, message, fields ? { fields } : {});
export const tooManyRequests = (code: ErrorCode, message: string, retryAfterSeconds: number, fields?: Record<string, unknown>) =>
  new AppError(429, code, message, { retryAfterSeconds, ...(fields ? { fields } : {}) });

/** Raised where we know a dependency is down; the error handler also recognises raw driver errors. */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: 'postgres' | 'redis' | 'queue' | 'gemini' | 'stripe' | 'storage',
    cause?: unknown,
  ) {
    super(`${dependency} unavailable`, { cause });
    this.name = 'DependencyUnavailableError';
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
// Postgres SQLSTATE classes 08 (connection exception), 57P0x (shutdown / cannot connect now), 53300 (too many
// connections), and Postgres too busy to answer in time: 57014 (statement_timeout ran out) and 55P03 (a lock
// not granted within lock_timeout, or NOWAIT). A retry moments later can succeed, so these are 503s, not 500s.
const PG_OUTAGE = /^(08|57P0|53300$|57014$|55P03$)/;

/** True when an error means Postgres or Redis is unreachable or too busy (so the right answer is 503, not 500). */
export function dependencyOf(err: unknown): 'postgres' | 'redis' | 'queue' | 'gemini' | 'stripe' | 'storage' | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DependencyUnavailableError) return e.dependency;
    const { code, message = '', name = '' } = e as { code?: unknown; message?: string; name?: string };
    if (typeof code === 'string' && PG_OUTAGE.test(code)) return 'postgres';
    if (
      name === 'MaxRetriesPerRequestError' ||
      /enableOfflineQueue|Connection is closed|Command timed out|Stream isn't writeable/.test(message)
    ) {
      return 'redis';
    }
    if (/timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/.test(message)) {
      return 'postgres';
    }
    if (typeof code === 'string' && NETWORK_CODES.has(code)) {
      // A raw socket error: which dependency it was does not change the answer (503); guess from the port.
      return /6379|redis/i.test(message) ? 'redis' : 'postgres';
    }
  }
  return undefined;
}
