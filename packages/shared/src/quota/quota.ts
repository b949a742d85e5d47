import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Tier } from '../db/database.js';
import type { RedisKeys } from '../redis/create-redis.js';

export interface QuotaUsage {
  used: number;
  /** null when the tier is unlimited (configured as 0). */
  limit: number | null;
  resetsAt: Date;
}

export type ChargeResult = ({ admitted: true } | { admitted: false; retryAfterSeconds: number }) & QuotaUsage;

// Check-and-charge in one atomic step: concurrent sends can never both take the last unit.
const CHARGE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[1])
if limit > 0 and used >= limit then return {0, used} end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return {1, used}`;

// Gives one unit back, never below zero (a refund after the day rolled over is a no-op).
const REFUND = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used <= 0 then return 0 end
return redis.call('DECR', KEYS[1])`;

/** Daily prompt quota per user, per UTC day, in Redis. */
export function createQuota(redis: Redis, keys: RedisKeys, limits: Config['quota']) {
  const limitFor = (tier: Tier) => limits[tier];

  function day(now: Date): { id: string; resetsAt: Date } {
    const id = now.toISOString().slice(0, 10);
    const resetsAt = new Date(`${id}T00:00:00.000Z`);
    resetsAt.setUTCDate(resetsAt.getUTCDate() + 1);
    return { id, resetsAt };
  }

  return {
    async usage(userId: string, tier: Tier, now = new Date()): Promise<QuotaUsage> {
      const { id, resetsAt } = day(now);
      const used = Number((await redis.get(keys.quota(userId, id))) ?? 0);
      const limit = limitFor(tier);
      return { used, limit: limit === 0 ? null : limit, resetsAt };
    },

    async charge(userId: string, tier: Tier, now = new Date()): Promise<ChargeResult & { day: string }> {
      const { id, resetsAt } = day(now);
      const limit = limitFor(tier);
      // Keep the counter a little past midnight so a late refund still finds it; the key is per day anyway.
      const ttl = Math.ceil((resetsAt.getTime() - now.getTime()) / 1000) + 3600;
      const [admitted, used] = (await redis.eval(CHARGE, 1, keys.quota(userId, id), limit, ttl)) as [number, number];
      const base = { used, limit: limit === 0 ? null : limit, resetsAt, day: id };
      if (admitted === 1) return { admitted: true, ...base };
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000)), ...base };
    },

    /** Returns the unit charged on `day` (the value `charge` returned). */
    async refund(userId: string, day: string): Promise<void> {
      await redis.eval(REFUND, 1, keys.quota(userId, day));
    },
  };
}
export type Quota = ReturnType<typeof createQuota>;
