import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Tier } from '../db/database.js';
import type { RedisKeys } from '../redis/create-redis.js';

export interface QuotaUsage {
  used: number;
  /** null when the tier is unlimited (configured as 0). */
  limit: number | null;
  resetsAt: Date;
  /** The UTC day ('YYYY-MM-DD') these numbers are for, by the Redis server's clock. */
  day: string;
}

/** A user's count for the day, without the tier's limit. */
export type QuotaCount = Omit<QuotaUsage, 'limit'>;

export type ChargeResult = ({ admitted: true } | { admitted: false; retryAfterSeconds: number }) & QuotaUsage;

/** What Postgres knows about a day's charges: a counter Redis lost is rebuilt from it. */
export interface ChargedUnits {
  /** Units charged to the user on `day` whose refund has not been given back to the counter. */
  countCharged(userId: string, day: string): Promise<number>;
}

const DAY_MS = 86_400_000;
// Counters outlive their day by an hour so that a late refund still finds the counter it belongs to.
const LATE_REFUND_SECONDS = 3600;
// The offset learnt from an answer is off by at most that answer's round trip: a bound on it, with room to spare.
const MAX_CLOCK_READ_ERROR_MS = 1000;

// KEYS: counter. ARGV: dayStart, dayEnd (unix seconds), seed (-1: none), limit (-1: only read; 0: unlimited),
// changes channel, user id.
// The day is the Redis server's: every API and worker host agrees on it whatever its own clock says. The caller
// names the day it expects (so the key is declared) and is told to try again when the server is on another one.
// A missing counter is started from `seed` (what Postgres says was charged) before anything is counted on it, in
// the same step, so a lost counter never hands out a fresh quota and two hosts seeding at once agree.
// Every change of the count is published (the user id) in the same step, so processes that keep a user's count in
// memory (GET /user/me) drop it: no writer can forget to announce, and it costs no extra round trip.
// Replies: {state, seconds, microseconds, used}; state -2 another day, -1 counter missing (send a seed),
// 0 over the limit, 1 charged, 2 read.
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1])
if now < tonumber(ARGV[1]) or now >= tonumber(ARGV[2]) then return {-2, t[1], t[2], 0} end
local used = redis.call('GET', KEYS[1])
if not used then
  if tonumber(ARGV[3]) < 0 then return {-1, t[1], t[2], 0} end
  used = ARGV[3]
  redis.call('SET', KEYS[1], used)
  redis.call('EXPIREAT', KEYS[1], tonumber(ARGV[2]) + ${LATE_REFUND_SECONDS})
  redis.call('PUBLISH', ARGV[5], ARGV[6])
end
used = tonumber(used)
local limit = tonumber(ARGV[4])
if limit < 0 then return {2, t[1], t[2], used} end
if limit > 0 and used >= limit then return {0, t[1], t[2], used} end
local charged = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[5], ARGV[6])
return {1, t[1], t[2], charged}`;

// KEYS: counter, the day's given-back charges. ARGV: charge id, expireAt, changes channel, user id. Gives a
// charge's unit back at most once, so a refund can be retried after any failure. A missing counter is left alone:
// it is rebuilt from Postgres, which no longer counts a refunded charge. A unit given back is published as above.
const REFUND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('EXPIREAT', KEYS[2], ARGV[2])
if tonumber(redis.call('GET', KEYS[1])) <= 0 then return 0 end
redis.call('DECR', KEYS[1])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`;

interface Day {
  id: string;
  start: number;
  end: number;
}

function dayAt(ms: number): Day {
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  return { id: new Date(start).toISOString().slice(0, 10), start, end: start + DAY_MS };
}

function dayOf(id: string): Day {
  return dayAt(Date.parse(`${id}T00:00:00.000Z`));
}

/**
 * Daily prompt quota per user, per UTC day. The counter lives in Redis (one atomic check-and-charge, so parallel
 * sends can never both take the last unit); Postgres, which records the quota day of every charged reply and
 * every refund, is what a lost counter is rebuilt from.
 */
export function createQuota(redis: Redis, keys: RedisKeys, limits: Config['quota'], charged: ChargedUnits) {
  const limitFor = (tier: Tier) => limits[tier];
  // Redis's clock minus ours, learnt from every answer: the first guess at the day is then nearly always right.
  let clockOffsetMs = 0;

  async function count(userId: string, limit: number, source: ChargedUnits) {
    let seed = -1;
    for (let attempt = 0; attempt < 6; attempt++) {
      const day = dayAt(Date.now() + clockOffsetMs);
      const [state, seconds, micros, used] = (await redis.eval(
        COUNT,
        1,
        keys.quota(userId, day.id),
        day.start / 1000,
        day.end / 1000,
        seed,
        limit,
        keys.quotaChanges,
        userId,
      )) as [number, string, string, number];
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      clockOffsetMs = now - Date.now();
      if (state === -2) seed = -1; // that seed was for the other day
      else if (state === -1) seed = await source.countCharged(userId, day.id);
      else return { state, used, day, now };
    }
    throw new Error('quota: the day kept changing under the counter');
  }

  // A limit of 0 means unlimited, shown as null.
  const shownLimit = (limit: number) => (limit === 0 ? null : limit);
  const countedOn = (used: number, day: Day): QuotaCount => ({ used, resetsAt: new Date(day.end), day: day.id });
  const usageOf = (used: number, limit: number, day: Day): QuotaUsage => ({ ...countedOn(used, day), limit: shownLimit(limit) });

  /** The count and its day, without the limit: for a caller that learns the tier afterwards (see `limitOf`). */
  async function counted(userId: string): Promise<QuotaCount> {
    const { used, day } = await count(userId, -1, charged);
    return countedOn(used, day);
  }
  const limitOf = (tier: Tier): number | null => shownLimit(limitFor(tier));

  return {
    async usage(userId: string, tier: Tier): Promise<QuotaUsage> {
      return { ...(await counted(userId)), limit: limitOf(tier) };
    },

    counted,
    limitOf,

    /**
     * When a count's day ends by this host's clock (Redis's clock names the day): what keeps a copy of the count
     * must drop it by then. Early by the last answer's round trip at most, never late.
     */
    dayEndsLocally(count: QuotaCount): number {
      return count.resetsAt.getTime() - clockOffsetMs - MAX_CLOCK_READ_ERROR_MS;
    },

    /**
     * Charges one unit if the tier's limit allows. `source` replaces the Postgres view given at creation, e.g. one
     * bound to the caller's transaction (which must not wait for a second pool connection while holding one).
     */
    async charge(userId: string, tier: Tier, source: ChargedUnits = charged): Promise<ChargeResult> {
      const limit = limitFor(tier);
      const { state, used, day, now } = await count(userId, limit, source);
      const base = usageOf(used, limit, day);
      if (state === 1) return { admitted: true, ...base };
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((day.end - now) / 1000)), ...base };
    },

    /**
     * Gives back the unit charged on `day` (the day `charge` returned) for `chargeId` (the reply it paid for).
     * Idempotent per charge: retry it freely.
     */
    async refund(userId: string, day: string, chargeId: string): Promise<void> {
      const counter = keys.quota(userId, day);
      await redis.eval(REFUND, 2, counter, `${counter}:refunds`, chargeId, dayOf(day).end / 1000 + LATE_REFUND_SECONDS, keys.quotaChanges, userId);
    },
  };
}
export type Quota = ReturnType<typeof createQuota>;
