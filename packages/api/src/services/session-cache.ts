import type { Redis } from 'ioredis';
import type { ActiveSession } from '@gemini-chat/shared';

interface Log {
  warn(obj: object, msg: string): void;
}

/** Messages on the session channel: `session:<sessionId>` (revoked) or `user:<userId>` (revoked all, tier changed). */
type Change = `session:${string}` | `user:${string}`;

const MAX_ENTRIES = 100_000;

/**
 * Live sessions (with their user's tier) recently checked by this API process, so an authenticated request
 * does not need a Postgres round trip. Correctness comes from invalidation, not from the TTL:
 * - every revocation or tier change is published on one Redis channel after its transaction commits, and every
 *   API process (the one making the change first, synchronously) drops the affected entries on receipt;
 * - entries are only used while this process's subscription is known to be live; when the subscriber
 *   connection drops, everything is forgotten and requests go to Postgres until it is subscribed again, so a
 *   change published during an outage cannot be missed;
 * - a load that raced with an invalidation (read from Postgres before the change committed, finished after
 *   the message arrived) is not stored: a generation counter, bumped by every invalidation, must be unchanged.
 * The TTL (AUTH_SESSION_CACHE_SECONDS) only bounds how long a publish that failed outright can go unnoticed.
 */
export function createSessionCache(deps: {
  subscriber: Redis;
  publisher: Redis;
  channel: string;
  ttlSeconds: number;
  load: (sessionId: string, userId: string) => Promise<ActiveSession | undefined>;
  log: Log;
}) {
  const { subscriber, publisher, channel, load, log } = deps;
  const ttlMs = deps.ttlSeconds * 1000;
  const entries = new Map<string, { session: ActiveSession; until: number }>();
  let generation = 0;
  let live = false;

  function forgetAll(): void {
    generation++;
    entries.clear();
  }

  function apply(change: string): void {
    generation++;
    if (change.startsWith('session:')) {
      entries.delete(change.slice('session:'.length));
    } else if (change.startsWith('user:')) {
      const userId = change.slice('user:'.length);
      for (const [sessionId, entry] of entries) if (entry.session.userId === userId) entries.delete(sessionId);
    }
  }

  function subscribe(): void {
    subscriber
      .subscribe(channel)
      .then(() => {
        // Anything published before this point may have been missed: start from nothing.
        forgetAll();
        live = true;
      })
      .catch((err: unknown) => log.warn({ err }, 'session cache: subscribe failed; checking every request in Postgres'));
  }

  if (ttlMs > 0) {
    subscriber.on('message', (from: string, change: string) => {
      if (from === channel) apply(change);
    });
    subscriber.on('close', () => {
      live = false;
      forgetAll();
    });
    subscriber.on('ready', subscribe);
    if (subscriber.status === 'ready') subscribe();
  }

  async function publish(change: Change): Promise<void> {
    apply(change); // this process at once, without waiting for its own message
    try {
      await publisher.publish(channel, change);
    } catch (err) {
      // The change is committed; other processes notice within the TTL, and at once if their subscriber dropped.
      log.warn({ err, change }, 'session cache: publish failed; other API processes may trust it for up to AUTH_SESSION_CACHE_SECONDS');
    }
  }

  return {
    /** The live session, from this process's memory when it can be trusted, otherwise from `load`. */
    async find(sessionId: string, userId: string): Promise<ActiveSession | undefined> {
      const now = Date.now();
      const hit = live ? entries.get(sessionId) : undefined;
      if (hit && hit.until > now && hit.session.userId === userId) return hit.session;
      const seen = generation;
      const session = await load(sessionId, userId);
      if (session && live && seen === generation && ttlMs > 0) {
        if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!); // the oldest entry
        entries.set(sessionId, { session, until: Math.min(now + ttlMs, session.expiresAt.getTime()) });
      }
      return session;
    },

    /** Call after the transaction that revoked a session has committed. */
    sessionRevoked: (sessionId: string) => publish(`session:${sessionId}`),

    /** Call after a transaction that revoked all of a user's sessions or changed their tier has committed. */
    userChanged: (userId: string) => publish(`user:${userId}`),
  };
}
export type SessionCache = ReturnType<typeof createSessionCache>;

/** What services need to announce: a narrower view than the cache itself. */
export type SessionChanges = Pick<SessionCache, 'sessionRevoked' | 'userChanged'>;
