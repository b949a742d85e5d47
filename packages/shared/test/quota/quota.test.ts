import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createQuota, redisKeys, type Quota } from '../../src/index.js';
import { testRedisUrl } from '@gemini-chat/testkit';

// The Lua scripts against a real Redis. What Postgres says was charged comes from `charged` (the app passes the
// message repository; its query is covered by the API's quota tests).
let redis: Redis;
let quota: Quota;
const charged = new Map<string, number>();
const keys = redisKeys(`test:${randomBytes(5).toString('hex')}:`);

beforeAll(() => {
  redis = new Redis(testRedisUrl());
  quota = createQuota(redis, keys, { basic: 5, pro: 0 }, { countCharged: async (userId, day) => charged.get(`${userId}:${day}`) ?? 0 });
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}*`);
  if (found.length) await redis.del(...found);
  await redis.quit();
});

/** Today according to the Redis server's clock. */
const redisDay = async () => new Date(Number((await redis.time())[0]) * 1000).toISOString().slice(0, 10);

describe('quota', () => {
  it('takes the day from the Redis server\'s clock, not from the clock of the host it runs on', async () => {
    const userId = randomUUID();
    const day = await redisDay();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2001-02-03T23:59:59Z')); // a host whose clock is years off
    const charge = await quota.charge(userId, 'basic');
    expect(charge).toMatchObject({ admitted: true, used: 1, day });
    expect(await redis.get(keys.quota(userId, day))).toBe('1');
    const usage = await quota.usage(userId, 'basic');
    expect(usage).toMatchObject({ used: 1, day });
    expect(usage.resetsAt.toISOString()).toBe(new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString());
  });

  it('starts a missing counter from what Postgres says was charged that day, once', async () => {
    const userId = randomUUID();
    const day = await redisDay();
    charged.set(`${userId}:${day}`, 4);
    expect(await quota.usage(userId, 'basic')).toMatchObject({ used: 4, limit: 5 });
    expect(await quota.charge(userId, 'basic')).toMatchObject({ admitted: true, used: 5 });
    expect(await quota.charge(userId, 'basic')).toMatchObject({ admitted: false, used: 5 });
    // The counter is the truth from then on: Postgres is asked again only once it is lost.
    charged.set(`${userId}:${day}`, 0);
    expect(await quota.usage(userId, 'basic')).toMatchObject({ used: 5 });
  });

  it('gives a unit back once per charge, however often the refund is retried', async () => {
    const userId = randomUUID();
    const first = await quota.charge(userId, 'basic');
    await quota.charge(userId, 'basic');
    const chargeId = randomUUID();
    await quota.refund(userId, first.day, chargeId);
    await quota.refund(userId, first.day, chargeId);
    expect((await quota.usage(userId, 'basic')).used).toBe(1);
  });

  it('a refund never creates a counter: a lost one is rebuilt from Postgres, which already left the refunded unit out', async () => {
    const userId = randomUUID();
    const day = await redisDay();
    await quota.refund(userId, day, randomUUID());
    expect(await redis.exists(keys.quota(userId, day))).toBe(0);
    charged.set(`${userId}:${day}`, 2);
    expect((await quota.usage(userId, 'basic')).used).toBe(2);
  });
});

describe('quota changes, for copies of a count kept elsewhere', () => {
  it('publishes the user id on every change of a count (seed, charge, refund), and nothing on a read or a refusal', async () => {
    const userId = randomUUID();
    const subscriber = new Redis(testRedisUrl());
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => heard.push(message));
    await subscriber.subscribe(keys.quotaChanges);
    try {
      charged.set(`${userId}:${await redisDay()}`, 4);
      await quota.counted(userId); // seeds the counter from Postgres (4)
      const charge = await quota.charge(userId, 'basic'); // 5 of 5
      await quota.counted(userId);
      expect((await quota.charge(userId, 'basic')).admitted).toBe(false);
      await quota.refund(userId, charge.day, 'reply-1');
      await quota.refund(userId, charge.day, 'reply-1'); // given back once only
      await redis.ping(); // the messages published before this answer have reached the subscriber by now
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(heard).toEqual([userId, userId, userId]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('says when the count\'s day ends by this host\'s clock, early rather than late, whatever that clock says', async () => {
    const userId = randomUUID();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2001-02-03T12:00:00Z')); // a host whose clock is years behind Redis's
    const count = await quota.counted(userId);
    const endsLocally = quota.dayEndsLocally(count);
    const redisNow = Number((await redis.time())[0]) * 1000;
    const left = count.resetsAt.getTime() - redisNow;
    expect(endsLocally - Date.now()).toBeLessThanOrEqual(left);
    expect(endsLocally - Date.now()).toBeGreaterThan(left - 3000);
  });
});
