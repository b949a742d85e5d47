import type { Redis } from 'ioredis';
import type { Logger } from '@gemini-chat/shared';

/** What a change feed tells the cache listening to it. */
export interface ChangeListener {
  /** `<group>`: forget the whole group; `<group> <key>`: one entry. */
  change(change: string): void;
  /** true once listening (what was announced before may have been missed); false as soon as it is not. */
  live(isLive: boolean): void;
}

/** Where a cache learns of changes: a Redis channel, Postgres NOTIFY (see postgres-changes.ts). */
export interface ChangeFeed {
  listen(listener: ChangeListener): void;
  /** Announces a change to every process, for feeds that carry announcements made by the application. */
  publish?(change: string): Promise<void>;
}

/** Changes announced on a Redis channel (by `announce`, or by a Lua script that PUBLISHes there). */
export function redisChannelFeed(deps: { subscriber: Redis; publisher: Redis; channel: string; log: Logger }): ChangeFeed {
  const { subscriber, publisher, channel, log } = deps;
  return {
    listen(listener) {
      function subscribe(): void {
        subscriber
          .subscribe(channel)
          .then(() => listener.live(true))
          .catch((err: unknown) => log.warn({ err, channel }, 'local cache: subscribe failed; reading through meanwhile'));
      }
      subscriber.on('message', (from: string, change: string) => {
        if (from === channel) listener.change(change);
      });
      subscriber.on('close', () => listener.live(false));
      subscriber.on('ready', subscribe);
      if (subscriber.status === 'ready') subscribe();
    },
    async publish(change) {
      await publisher.publish(channel, change);
    },
  };
}

/**
 * Values kept in this API process's memory, grouped (per user), and dropped as soon as one of its feeds announces a
 * change: `<group>` drops the whole group, `<group> <key>` one entry. Correctness comes from the announcements, not
 * from the TTL:
 * - the process announcing forgets at once; every other process when the message arrives (one pub/sub hop);
 * - entries are used only while every feed is known to be listening; when one stops, everything is forgotten and
 *   every read goes to the source until it listens again, so a change announced during an outage cannot be missed;
 * - a load that raced with an announcement (read from the source before the change, finished after the message
 *   arrived) is not kept: a counter, bumped by every announcement, must be unchanged between start and end.
 * The TTL only bounds how long a change whose announcement failed outright can go unnoticed.
 */
export function createLocalCache<V>(deps: {
  feeds: ChangeFeed[];
  ttlSeconds: number;
  maxEntries: number;
  /** A bound on the sum of `sizeOf` over the entries too, for values whose size varies widely. */
  maxSize?: { total: number; sizeOf: (value: V) => number };
  log: Logger;
  /** How long a value may be kept at most, when it carries its own expiry (epoch ms). */
  expiresAt?: (value: V) => number;
}) {
  const { feeds, maxEntries, log } = deps;
  const ttlMs = deps.ttlSeconds * 1000;
  const groups = new Map<string, Map<string, { value: V; until: number; weight: number }>>();
  const listening = feeds.map(() => false);
  const sizeOf = deps.maxSize?.sizeOf ?? (() => 0);
  const maxWeight = deps.maxSize?.total ?? Infinity;
  let size = 0;
  let weight = 0;
  let generation = 0;
  let live = false;

  function dropGroup(group: string): void {
    const entries = groups.get(group);
    if (!entries) return;
    size -= entries.size;
    for (const entry of entries.values()) weight -= entry.weight;
    groups.delete(group);
  }

  function dropEntry(entries: Map<string, { weight: number }> | undefined, key: string): void {
    const entry = entries?.get(key);
    if (!entry) return;
    entries!.delete(key);
    size--;
    weight -= entry.weight;
  }

  function apply(change: string): void {
    generation++;
    const [group = '', key] = change.split(' ');
    if (key === undefined) return dropGroup(group);
    dropEntry(groups.get(group), key);
  }

  function forgetAll(): void {
    generation++;
    groups.clear();
    size = 0;
    weight = 0;
  }

  if (ttlMs > 0) {
    feeds.forEach((feed, i) =>
      feed.listen({
        change: apply,
        live(isLive) {
          // Either way, start from nothing: whatever was announced while this feed was not listening was missed.
          forgetAll();
          listening[i] = isLive;
          live = listening.every(Boolean);
        },
      }),
    );
  }

  function store(group: string, key: string, value: V, now: number): void {
    let entries = groups.get(group);
    if (!entries) groups.set(group, (entries = new Map()));
    dropEntry(entries, key);
    const entry = { value, until: Math.min(now + ttlMs, deps.expiresAt?.(value) ?? Infinity), weight: sizeOf(value) };
    entries.set(key, entry);
    size++;
    weight += entry.weight;
    // Over a bound: drop the groups stored longest ago (Map order is insertion order).
    for (const oldest of groups.keys()) {
      if (size <= maxEntries && weight <= maxWeight) break;
      dropGroup(oldest);
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

    /** Forgets a group in this process only: for changes announced to the other processes by someone else. */
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
      for (const feed of feeds) {
        try {
          await feed.publish?.(change);
        } catch (err) {
          log.warn({ err, change }, 'local cache: announcing a change failed; other API processes may keep it for the TTL');
        }
      }
    },
  };
}
export type LocalCache<V> = ReturnType<typeof createLocalCache<V>>;
