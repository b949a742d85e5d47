import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/create-redis.js';

export interface CachedPage {
  etag: string;
  body: string;
}

/**
 * Per-user cache of chatroom list pages. Writes bump a per-user version instead of deleting keys: a reader
 * that loaded the database before a write stores its page under the old version, which nobody reads again,
 * so a slow reader can never put a stale list back into the cache.
 */
export function createChatroomListCache(redis: Redis, keys: RedisKeys, ttlSeconds: number) {
  return {
    async get(userId: string, page: string): Promise<{ version: string; hit: CachedPage | undefined }> {
      const version = (await redis.get(keys.chatroomListVersion(userId))) ?? '0';
      const raw = await redis.get(keys.chatroomListPage(userId, version, page));
      return { version, hit: raw ? (JSON.parse(raw) as CachedPage) : undefined };
    },

    async set(userId: string, version: string, page: string, entry: CachedPage): Promise<void> {
      await redis.set(keys.chatroomListPage(userId, version, page), JSON.stringify(entry), 'EX', ttlSeconds);
    },

    /** Call after every write that changes what the list shows. */
    async forget(userId: string): Promise<void> {
      const key = keys.chatroomListVersion(userId);
      // The version outlives every page stored under it, so a reset version can never meet an old page.
      await redis.multi().incr(key).expire(key, Math.max(ttlSeconds * 4, 86_400)).exec();
    },
  };
}
export type ChatroomListCache = ReturnType<typeof createChatroomListCache>;
