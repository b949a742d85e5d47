import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplyEvents, type ReplyEvents } from '../../src/index.js';
import { testRedisUrl } from '@gemini-chat/testkit';

// The claim that starts a run of a reply, and ending a reply from outside its run (stop, read, store, finish),
// against a real Redis: the Lua scripts are the thing under test.
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

const types = async (messageId: string, after = '0') => (await events.read(messageId, after)).map((e) => e.type);

describe('reply events: claim', () => {
  it('a first attempt starts an empty log; a retry appends `reset` after the text of the earlier run and fences that run out', async () => {
    const messageId = randomUUID();
    const first = randomUUID();
    await events.claim(messageId, first, false);
    expect(await types(messageId)).toEqual([]);
    await events.append(messageId, first, 'delta', { text: 'Hel' });

    const second = randomUUID();
    await events.claim(messageId, second, true);
    expect(await types(messageId)).toEqual(['delta', 'reset']);
    expect(await events.append(messageId, first, 'delta', { text: 'lo' })).toBeNull();
    expect(await events.append(messageId, second, 'delta', { text: 'Hello' })).not.toBeNull();
  });

  it('a retry appends `reset` even when the log is gone (BUG-2: Redis restarted), after the id a reader last saw', async () => {
    const messageId = randomUUID();
    const first = randomUUID();
    await events.claim(messageId, first, false);
    const seen = await events.append(messageId, first, 'delta', { text: 'Hel' });
    // What a restart without persistence does to this reply: its log and owner are gone.
    await redis.del(`${prefix}reply:{${messageId}}:events`, `${prefix}reply:{${messageId}}:owner`);
    await new Promise((resolve) => setTimeout(resolve, 2)); // the restarted server's ids come from a later clock

    await events.claim(messageId, randomUUID(), true);
    // A reader resuming after the last id it saw gets the `reset`, so it drops the text it already shows.
    expect(await types(messageId, seen!)).toEqual(['reset']);
  });
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
