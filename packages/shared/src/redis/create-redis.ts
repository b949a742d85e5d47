import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';


/**
 * The one Redis client factory.
 * - `command` clients (API, producers) fail fast while Redis is unreachable: no offline queue, one retry,
 *   a command timeout. Callers turn that failure into a 503 instead of hanging.
 * - `queue` clients (BullMQ producers) queue commands while reconnecting, because BullMQ initialises its
 *   connection with commands of its own, but still give up after the command timeout.
 * - `blocking` clients (BullMQ workers, XREAD BLOCK readers) wait for Redis to return, as BullMQ requires
 *   (`maxRetriesPerRequest: null`), and have no command timeout because their commands block on purpose.
 */
export function createRedis(
  config: Config['redis'],
  options: { kind: 'command' | 'queue' | 'blocking'; name: string; logger?: Logger; lazyConnect?: boolean },
): Redis {
  const base: RedisOptions = {
    connectionName: options.name,
    connectTimeout: 2000,
    lazyConnect: options.lazyConnect ?? false,
    // Keep reconnecting for ever with a capped delay: Redis coming back must heal the process by itself.
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  const specific: RedisOptions = {
    // Auto-pipelining: commands issued by concurrent requests in one event-loop tick share one socket write.
    command: { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: config.commandTimeoutMs, enableAutoPipelining: true },
    queue: { enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: config.commandTimeoutMs },
    blocking: { maxRetriesPerRequest: null, enableReadyCheck: false },
  }[options.kind];
  const redis = new Redis(config.url, { ...base, ...specific });
  let lastLogged = 0;
  redis.on('error', (err: Error) => {
    // Reconnect attempts repeat every couple of seconds during an outage; one line per 10 s is enough.
    const now = Date.now();
    if (now - lastLogged > 10_000) {
      lastLogged = now;
      options.logger?.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, `redis (${options.name}): ${err.message}`);
    }
  });
  return redis;
}

/** Closes a client without ever hanging: QUIT when connected (flushes pending replies), else drop the socket. */
export async function closeRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}

/** Resolves when the client is ready, or after `timeoutMs` (the caller decides whether that is fatal). */
export function waitForRedis(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/** Builds every Redis key this app uses, under one prefix, so tests and tenants never collide. */
export function redisKeys(prefix: string) {
  /** Every chatroom list page key of the user starts with this, followed by `<version>:<page>`. */
  const chatroomListPagePrefix = (userId: string) => `${prefix}chatroom-list:{${userId}}:`;
  return {
    prefix,
    chatroomListVersion: (userId: string) => `${prefix}chatroom-list:{${userId}}:version`,
    chatroomListPagePrefix,
    /** Channel on which a changed chatroom list is announced (message: the user id) to in-process caches. */
    chatroomListChanges: `${prefix}chatroom-list-changes`,
    chatroomListPage: (userId: string, version: string, page: string) => `${chatroomListPagePrefix(userId)}${version}:${page}`,
    /** Channel on which revoked sessions and API keys and tier changes are announced (message: `<userId>[ <entry>]`). */
    sessionChanges: `${prefix}session-changes`,
    quota: (userId: string, day: string) => `${prefix}quota:{${userId}}:${day}`,
    /** Channel on which the quota's scripts publish every change of a user's count (message: the user id). */
    quotaChanges: `${prefix}quota-changes`,
    rateLimit: `${prefix}rate-limit:`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
