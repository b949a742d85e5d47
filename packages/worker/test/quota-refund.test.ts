import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeRedis,
  createJobProducer,
  createQuota,
  createRedis,
  createReplyEvents,
  createReplyNotifications,
  createStorage,
  createStore,
  redisKeys,
  type JobProducer,
} from '@gemini-chat/shared';
import { signIn, startStack, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';
import { createGeminiClient } from '../src/gemini/gemini-client.js';
import { createGenerateReplyHandler } from '../src/handlers/generate-reply.handler.js';
import { createWorkerMetrics } from '../src/metrics.js';
import { createSweeper } from '../src/sweeper.js';

// A reply fails for good while Redis refuses the quota refund. The generation runs in this process with the
// worker's own handler; only the refund's Redis connection points at a server that is not there.
let s: Stack;
let user: SignedIn;
let redis: Redis;
let subscriber: Redis;
let deadRedis: Redis;
let producer: JobProducer;
beforeAll(async () => {
  s = await startStack({ QUOTA_BASIC_DAILY: '5' }, { startWorker, worker: false });
  user = await signIn(s.app);
  redis = createRedis(s.config.redis, { kind: 'command', name: 'test' });
  subscriber = createRedis(s.config.redis, { kind: 'blocking', name: 'test-subscriber' });
  deadRedis = createRedis({ ...s.config.redis, url: 'redis://127.0.0.1:1' }, { kind: 'command', name: 'test-dead', lazyConnect: true });
  producer = createJobProducer(s.config.redis, s.config.worker.maxAttempts);
});
afterAll(async () => {
  await producer.close();
  deadRedis.disconnect();
  await Promise.all([closeRedis(redis), closeRedis(subscriber)]);
  await s.close();
});

const usedToday = async () => (await s.app.inject({ url: '/user/me', headers: user.auth })).json().usage.used as number;

describe('a quota refund that Redis refuses', () => {
  it('is not lost: the reply still fails cleanly, the rebuilt counter counts the unit until the sweeper gives it back', async () => {
    const store = createStore(s.db);
    const keys = redisKeys(s.config.redis.keyPrefix);
    const replyEvents = createReplyEvents(redis, s.config);
    const notifications = createReplyNotifications(subscriber, replyEvents.controlChannel);
    await notifications.start();
    const log = pino({ level: 'silent' });
    const handler = createGenerateReplyHandler({
      store,
      gemini: createGeminiClient(s.config.gemini),
      storage: createStorage(s.config.files.storage),
      replyEvents,
      notifications,
      onCompleted: async () => {},
      quota: createQuota(deadRedis, keys, s.config.quota, store.messages),
      config: s.config,
      metrics: createWorkerMetrics(),
      log,
    });

    const roomId = (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id;
    const sent = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'Refused [[fail:400]]' }, headers: user.auth });
    expect(sent.statusCode).toBe(202);
    const replyId = sent.json().reply.id as string;
    expect(await usedToday()).toBe(1);

    // The model refuses the prompt: the reply fails for good with no text, so its unit is owed back.
    await expect(handler.handle({ assistantMessageId: replyId }, { attemptsMade: 0, maxAttempts: 3, signal: new AbortController().signal })).rejects.toThrow(
      'MODEL_REJECTED_REQUEST',
    );
    const row = await s.db.selectFrom('message').selectAll().where('id', '=', replyId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', error_code: 'MODEL_REJECTED_REQUEST', content: '' });
    expect(row.refunded_at).not.toBeNull();
    // Readers were told, whatever happened to the refund.
    expect((await replyEvents.last(replyId))?.type).toBe('error');

    // Redis lost the counter meanwhile: rebuilt from Postgres, it still holds the unit, because the refund that
    // will give it back has not reached Redis yet.
    expect(await usedToday()).toBe(1);
    await redis.del(...(await redis.keys(`${s.config.redis.keyPrefix}quota:{${user.userId}}:*`)));
    // Read through the quota itself: /user/me may answer from the API's memory, which a deleted key does not reach.
    const liveQuota = createQuota(redis, keys, s.config.quota, store.messages);
    expect((await liveQuota.counted(user.userId)).used).toBe(1);

    const sweeper = createSweeper({ store, producer, quota: liveQuota, config: s.config.worker, log });
    await sweeper.sweep();
    // The sweeper runs in another process in production: the API hears of the refund one notification later.
    await expect.poll(usedToday, { timeout: 1000, interval: 10 }).toBe(0);
    // Given back once only.
    await sweeper.sweep();
    expect(await usedToday()).toBe(0);
  });
});
