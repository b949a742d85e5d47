import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplyEvents, type ReplyEvents } from '../../src/index.js';
import { testRedisUrl } from '@gemini-chat/testkit';

// Ending a reply from outside its run: stop, read, store, finish (the Lua scripts are the thing under test).
let redis: Redis;
let events: ReplyEvents;
const prefix = `test:${randomBytes(5).toString('hex')}:`;

beforeAll(() => {
  redis = new Redis(testRedisUrl());
  events = createReplyEvents(redis, { redis: { keyPrefix: prefix }, worker: { replyStreamTtlSeconds: 60 } });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

describe('reply events: stop', () => {
  it('freezes the log: its run can no longer append, and its text is what readers were shown', async () => {
    const messageId = randomUUID();
    const run = randomUUID();
    expect(await events.claim(messageId, run, false)).toBe(true);
    await events.append(messageId, run, 'delta', { text: 'Hel' });
    await events.append(messageId, run, 'reset', {});
    await events.append(messageId, run, 'delta', { text: 'Hello' });

    await events.stop(messageId);
    expect(await events.append(messageId, run, 'delta', { text: ' world' })).toBeNull();
    expect(await events.text(messageId)).toBe('Hello');
    expect(await events.finish(messageId, 'done', { status: 'cancelled' })).not.toBeNull();
    expect(await events.owner(messageId)).toBe('finished');
  });

  it('a run claiming a log being ended or already ended is refused, and writes nothing', async () => {
    for (const end of ['stop', 'finish'] as const) {
      const messageId = randomUUID();
      await events.claim(messageId, randomUUID(), false);
      if (end === 'stop') await events.stop(messageId);
      else await events.finish(messageId, 'done', { status: 'cancelled' });
      const before = await events.read(messageId);
      expect(await events.claim(messageId, randomUUID(), true)).toBe(false);
      expect(await events.read(messageId)).toEqual(before);
    }
  });

  it('has no text for a log that was never written', async () => {
    expect(await events.text(randomUUID())).toBeUndefined();
  });
});
