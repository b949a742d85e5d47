import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/create-redis.js';

export interface CachedPage {
  etag: string;
  body: string;
}

// KEYS: the user's version key. ARGV: page key prefix (up to the version), page key suffix (after it).
// Returns { version, stored page or false }: the two lookups in one round trip. The page key is built here from
// the version, so it is not in KEYS; it shares the version key's {userId} hash tag (same Redis Cluster slot).
const GET_PAGE = `
local version = redis.call('GET', KEYS[1]) or '0'
return { version, redis.call('GET', ARGV[1] .. version .. ARGV[2]) }`;

/** A page is stored as `<etag>\n<body>`: the body is served as is, never parsed. */
const SEPARATOR = '\n';

/**
 * Per-user cache of chatroom list pages. Writes bump a per-user version instead of deleting keys: a reader
 * that loaded the database before a write stores its page under the old version, which nobody reads again,
 * so a slow reader can never put a stale list back into the cache.
 */
export function createChatroomListCache(redis: Redis, keys: RedisKeys, ttlSeconds: number) {
  return {
    async get(userId: string, page: string): Promise<{ version: string; hit: CachedPage | undefined }> {
      const [version, stored] = (await redis.eval(GET_PAGE, 1, keys.chatroomListVersion(userId), keys.chatroomListPagePrefix(userId), `:${page}`)) as [
        string,
        string | null,
      ];
      if (!stored) return { version, hit: undefined };
      const at = stored.indexOf(SEPARATOR);
      return { version, hit: { etag: stored.slice(0, at), body: stored.slice(at + 1) } };
    },

    async set(userId: string, version: string, page: string, entry: CachedPage): Promise<void> {
      await redis.set(keys.chatroomListPage(userId, version, page), `${entry.etag}${SEPARATOR}${entry.body}`, 'EX', ttlSeconds);
    },

    /** Call after every write that changes what the list shows. Also tells the API processes' in-memory copies. */
    async forget(userId: string): Promise<void> {
      const key = keys.chatroomListVersion(userId);
      // The version outlives every page stored under it, so a reset version can never meet an old page.
      const results = await redis.multi().incr(key).expire(key, Math.max(ttlSeconds * 4, 86_400)).publish(keys.chatroomListChanges, userId).exec();
      const failed = results?.find(([err]) => err)?.[0];
      if (failed) throw failed;
    },
  };
}
export type ChatroomListCache = ReturnType<typeof createChatroomListCache>;
