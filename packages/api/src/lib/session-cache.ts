import type { ActiveSession } from '@gemini-chat/shared';
import type { LocalCache } from './local-cache.js';

/**
 * Live sessions (with their user's tier) recently checked by this API process, grouped by user, so an
 * authenticated request needs no Postgres round trip. Every revocation and tier change is announced to all API
 * processes after it commits (see createLocalCache for why that keeps it exact).
 */
export function createSessionCache(local: LocalCache<ActiveSession>, load: (sessionId: string, userId: string) => Promise<ActiveSession | undefined>) {
  return {
    find: (sessionId: string, userId: string) => local.get(userId, sessionId, () => load(sessionId, userId)),

    /** Call after the transaction that revoked a session has committed. */
    sessionRevoked: (userId: string, sessionId: string) => local.announce(userId, sessionId),

    /** Call after a transaction that revoked all of a user's sessions or changed their tier has committed. */
    userChanged: (userId: string) => local.announce(userId),
  };
}
export type SessionCache = ReturnType<typeof createSessionCache>;

/** What services need to announce: a narrower view than the cache itself. */
export type SessionChanges = Pick<SessionCache, 'sessionRevoked' | 'userChanged'>;
