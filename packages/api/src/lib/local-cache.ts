import type { Redis } from 'ioredis';
import type { Logger } from '@gemini-chat/shared';

/**
 * Values kept in this API process's memory, grouped (per user), and dropped as soon as any process announces a
 * change on a Redis channel: `<group>` drops the whole group, `<group> <key>` one entry. Correctness comes from
 * the announcements, not from the TTL:
 * - the process announcing forgets at once; every other process when the message arrives (one pub/sub hop);
 * - entries are used only while this process's subscription is known to be live; when the subscriber connection
 *   drops, everything is forgotten and every read goes to the source until it is subscribed again, so a change
 *   announced during an outage cannot be missed;
 * - a load that raced with an announcement (read from the source before the change, finished after the message
 *   arrived) is not kept: a counter, bumped by every announcement, must be unchanged between start and end.
 * The TTL only bounds how long a change whose announcement failed outright can go unnoticed.
 */
export function createLocalCache<V>(deps: {
  subscriber: Redis;
  publisher: Redis;
  channel: string;
  ttlSeconds: number;
  maxEntries: number;
  log: Logger;
  /** How long a value may be kept at most, when it carries its own expiry (epoch ms). */
  expiresAt?: (value: V) => number;
}) {
  const { subscriber, publisher, channel, maxEntries, log } = deps;
  const ttlMs = deps.ttlSeconds * 1000;
  const groups = new Map<string, Map<string, { value: V; until: number }>>();
  let size = 0;
  let generation = 0;
  let live = false;

  function dropGroup(group: string): void {
    const entries = groups.get(group);
    if (!entries) return;
    size -= entries.size;
    groups.delete(group);
  }

  function apply(change: string): void {
    generation++;
    const [group = '', key] = change.split(' ');
    if (key === undefined) return dropGroup(group);
    const entries = groups.get(group);
    if (entries?.delete(key)) size--;
  }

  function forgetAll(): void {
    generation++;
    groups.clear();
    size = 0;
  }

  function subscribe(): void {
    subscriber
      .subscribe(channel)
      .then(() => {
        // Anything announced before this point may have been missed: start from nothing.
        forgetAll();
        live = true;
      })
      .catch((err: unknown) => log.warn({ err, channel }, 'local cache: subscribe failed; reading through meanwhile'));
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

  function store(group: string, key: string, value: V, now: number): void {
    let entries = groups.get(group);
    if (!entries) groups.set(group, (entries = new Map()));
    if (!entries.has(key)) size++;
    entries.set(key, { value, until: Math.min(now + ttlMs, deps.expiresAt?.(value) ?? Infinity) });
    // Over the bound: drop the groups stored longest ago (Map order is insertion order).
    for (const [oldest, old] of groups) {
      if (size <= maxEntries) break;
      size -= old.size;
      groups.delete(oldest);
    }
  }

  return {
    /** The value from memory when it can be trusted, otherwise from `load` (kept unless a change raced it). */
    async get<L extends V | undefined>(group: string, key: string, load: () => Promise<L>): Promise<V | L> {
      const now = Date.now();
      const hit = live ? groups.get(group)?.get(key) : undefined;
      if (hit && hit.until > now) return hit.value;
      const seen = generation;
      const value = await load();
      if (value !== undefined && live && seen === generation && ttlMs > 0) store(group, key, value, now);
      return value;
    },

    /** Forgets a group in this process only: for changes announced on the channel by someone else. */
    forget(group: string): void {
      apply(group);
    },

    /**
     * Tells every API process to forget a group (or one entry of it). Call after the change is committed. A
     * failed publish is logged, not thrown: the change is made, and other processes notice within the TTL (at
     * once if their own subscription is down, since they then trust nothing).
     */
    async announce(group: string, key?: string): Promise<void> {
      const change = key === undefined ? group : `${group} ${key}`;
      apply(change);
      try {
        await publisher.publish(channel, change);
      } catch (err) {
        log.warn({ err, channel, change }, 'local cache: announcing a change failed; other API processes may keep it for the TTL');
      }
    },
  };
}
export type LocalCache<V> = ReturnType<typeof createLocalCache<V>>;
