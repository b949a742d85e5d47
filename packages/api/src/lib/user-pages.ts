import type { LocalCache } from './local-cache.js';

/**
 * A response body as sent (the exact JSON), kept in this process's memory per user: GET /chatroom/:id and
 * GET /user/me. `expiresAt` (epoch ms, this host's clock): when it must be dropped whatever happens, e.g. when the
 * quota's day it shows ends.
 */
export interface CachedBody {
  body: string;
  expiresAt: number;
}

/** Grouped by user id; keys: `me`, `chatroom:<id>`. Any change of the user's data drops the whole group. */
export type UserPages = LocalCache<CachedBody>;

/** The sum of the bodies' lengths kept at most (characters; the bodies are mostly ASCII JSON). */
export const USER_PAGES_MAX_CHARS = 64 * 1024 * 1024;
