import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltas, readSse, signIn, startStack, waitFor, type SignedIn, type SseEvent, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

let s: Stack;
let user: SignedIn;
let base: string;
beforeAll(async () => {
  s = await startStack({ QUOTA_BASIC_DAILY: '0', WORKER_CONCURRENCY: '50', SSE_HEARTBEAT_SECONDS: '1', DATABASE_POOL_MAX: '20' }, { startWorker });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  user = await signIn(s.app);
});
afterAll(() => s.close());

const room = async (body: object = {}) => (await s.app.inject({ method: 'POST', url: '/chatroom', payload: body, headers: user.auth })).json().id as string;
const send = async (roomId: string, content: string, headers: Record<string, string> = {}) => {
  const res = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content }, headers: { ...user.auth, ...headers } });
  expect([200, 202]).toContain(res.statusCode);
  return res.json() as { reply: { id: string; status: string }; links: { stream: string } };
};
const message = async (roomId: string, id: string) => (await s.app.inject({ url: `/chatroom/${roomId}/messages/${id}`, headers: user.auth })).json();
const terminal = (events: SseEvent[]) => events.some((e) => e.event === 'done' || e.event === 'error');

describe('GET .../stream (Server-Sent Events)', () => {
  it('streams a slow reply as it is generated; the deltas add up to the stored reply; done carries it', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'Stream me [[chunks:6]] [[slow:60]]');
    expect(sent.links.stream).toBe(`/chatroom/${roomId}/messages/${sent.reply.id}/stream`);
    const { status, events, contentType } = await readSse(`${base}${sent.links.stream}`, user.auth);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/event-stream/);
    const stored = await message(roomId, sent.reply.id);
    expect(stored.status).toBe('completed');
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThanOrEqual(6);
    expect(deltas(events)).toBe(stored.content);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { id: sent.reply.id, status: 'completed', content: stored.content } });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('resumes after Last-Event-ID on another API instance: the full text, nothing missing, nothing twice', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'Resume me [[chunks:8]] [[slow:80]]');
    const url = `${sent.links.stream}`;
    const first = await readSse(`${base}${url}`, user.auth, (events) => events.filter((e) => e.event === 'delta').length >= 2);
    expect(terminal(first.events)).toBe(false);
    const lastId = first.events.at(-1)!.id!;

    const other = await s.buildAnotherApp();
    const otherBase = await other.listen({ port: 0, host: '127.0.0.1' });
    try {
      const second = await readSse(`${otherBase}${url}`, { ...user.auth, 'last-event-id': lastId });
      const stored = await message(roomId, sent.reply.id);
      expect(deltas(first.events) + deltas(second.events)).toBe(stored.content);
      const ids = [...first.events, ...second.events].map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(second.events.at(-1)?.event).toBe('done');
    } finally {
      await other.close();
    }
  });

  it('replays a finished reply in full and ends; a failed one ends with an error event', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'Finished already', { prefer: 'wait=10' });
    const replay = await readSse(`${base}${sent.links.stream}`, user.auth);
    expect(deltas(replay.events)).toBe((await message(roomId, sent.reply.id)).content);
    expect(replay.events.at(-1)?.event).toBe('done');

    const failed = await send(roomId, 'No [[fail:400]]', { prefer: 'wait=10' });
    const errorStream = await readSse(`${base}${failed.links.stream}`, user.auth);
    expect(errorStream.events.at(-1)).toMatchObject({ event: 'error', data: { status: 'failed', error: { code: 'MODEL_REJECTED_REQUEST' } } });
  });

  it('resuming after the final event ends at once (nothing more will come)', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'All done', { prefer: 'wait=10' });
    const full = await readSse(`${base}${sent.links.stream}`, user.auth);
    const lastId = full.events.at(-1)!.id!;
    const started = Date.now();
    const again = await readSse(`${base}${sent.links.stream}`, { ...user.auth, 'last-event-id': lastId });
    expect(again.events).toEqual([]);
    expect(Date.now() - started).toBeLessThan(900); // before the first keep-alive (1 s here)
  });

  it('ends a stream whose final log entry was lost, though the reply is final in the database', async () => {
    const redis = new Redis(s.config.redis.url);
    try {
      for (const ownerAfter of ['gone', 'finished'] as const) {
        const roomId = await room();
        const sent = await send(roomId, `Lost ending (${ownerAfter})`, { prefer: 'wait=10' });
        const key = `${s.config.redis.keyPrefix}reply:{${sent.reply.id}}`;
        // What a Redis blip between the worker's final row update and its final log entry leaves behind.
        const [[doneId]] = (await redis.xrevrange(`${key}:events`, '+', '-', 'COUNT', 1)) as [[string, string[]]];
        await redis.xdel(`${key}:events`, doneId);
        if (ownerAfter === 'gone') await redis.del(`${key}:owner`);
        const started = Date.now();
        const { events } = await readSse(`${base}${sent.links.stream}`, user.auth);
        expect(Date.now() - started).toBeLessThan(6000); // grace (3 s) + a keep-alive interval (1 s here)
        expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'completed' } });
        expect(deltas(events)).toBe((await message(roomId, sent.reply.id)).content);
        if (ownerAfter === 'gone') {
          // The log was ended for every reader, not just this one.
          const [[, fields]] = (await redis.xrevrange(`${key}:events`, '+', '-', 'COUNT', 1)) as [[string, string[]]];
          expect(fields.slice(0, 2)).toEqual(['type', 'done']);
        }
      }
    } finally {
      redis.disconnect();
    }
  }, 20_000);

  it('resuming with an id of a live log that has since expired starts over from the stored reply', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'Resume me later [[chunks:4]]', { prefer: 'wait=10' });
    const full = await readSse(`${base}${sent.links.stream}`, user.auth);
    const midway = full.events.find((e) => e.event === 'delta')!.id!;
    const redis = new Redis(s.config.redis.url);
    await redis.del(`${s.config.redis.keyPrefix}reply:{${sent.reply.id}}:events`); // what expiry does
    redis.disconnect();
    const again = await readSse(`${base}${sent.links.stream}`, { ...user.auth, 'last-event-id': midway });
    expect(again.events.map((e) => e.event)).toEqual(['reset', 'delta', 'done']);
    expect(deltas(again.events)).toBe((await message(roomId, sent.reply.id)).content);
  });

  it('waits for a reply that is still queued, with keep-alive comments meanwhile', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'Take your time [[slow:100 first=1500]]');
    const { events } = await readSse(`${base}${sent.links.stream}`, user.auth);
    expect(events.at(-1)?.event).toBe('done');
    expect(deltas(events)).toBe((await message(roomId, sent.reply.id)).content);
  });

  it('is 404 for another user and 400 for a user message or a malformed Last-Event-ID', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'mine', { prefer: 'wait=10' });
    const stranger = await signIn(s.app);
    expect((await readSse(`${base}${sent.links.stream}`, stranger.auth)).status).toBe(404);
    const userMessageId = (await s.app.inject({ url: `/chatroom/${roomId}/messages`, headers: user.auth })).json().items[1].id;
    expect((await readSse(`${base}/chatroom/${roomId}/messages/${userMessageId}/stream`, user.auth)).status).toBe(400);
    expect((await readSse(`${base}${sent.links.stream}`, { ...user.auth, 'last-event-id': 'nope' })).status).toBe(400);
  });

});

describe('cancel', () => {
  it('stops a generating reply within a second: partial text kept, stream ends, the model call is aborted', async () => {
    const roomId = await room();
    const sent = await send(roomId, 'Long answer [[chunks:20]] [[slow:300]]');
    const streaming = readSse(`${base}${sent.links.stream}`, user.auth);
    await waitFor(async () => (await s.app.inject({ url: `/chatroom/${roomId}/latest`, headers: user.auth })).json().status === 'generating');
    await waitFor(async () => s.gemini.requests.some((r) => r.lastUserText.startsWith('Long answer') && r.eventsSent >= 2));

    const cancelledAt = Date.now();
    const res = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/messages/${sent.reply.id}/cancel`, headers: user.auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('cancelled');

    const { events } = await streaming;
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'cancelled' } });
    const stored = await message(roomId, sent.reply.id);
    expect(stored.content.length).toBeGreaterThan(0);
    expect(stored.content).toBe(deltas(events));
    expect(stored.content).not.toContain('every word'); // not the whole reply

    const call = await waitFor(async () => s.gemini.requests.find((r) => r.lastUserText.startsWith('Long answer') && r.outcome !== 'pending'));
    expect(call.clientAborted).toBe(true);
    expect(call.endedAt! - cancelledAt).toBeLessThan(1000);
    // Idempotent, and the usage of what was produced is recorded.
    expect((await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/messages/${sent.reply.id}/cancel`, headers: user.auth })).json().status).toBe('cancelled');
    const usage = await waitFor(async () => (await message(roomId, sent.reply.id)).usage);
    expect(usage.outputTokens).toBeGreaterThan(0);
  });

  it('deleting the chatroom stops its reply being generated', async () => {
    const roomId = await room();
    await send(roomId, 'Doomed [[chunks:20]] [[slow:300]]');
    await waitFor(async () => s.gemini.requests.some((r) => r.lastUserText.startsWith('Doomed') && r.eventsSent >= 1));
    const deletedAt = Date.now();
    expect((await s.app.inject({ method: 'DELETE', url: `/chatroom/${roomId}`, headers: user.auth })).statusCode).toBe(204);
    const call = await waitFor(async () => s.gemini.requests.find((r) => r.lastUserText.startsWith('Doomed') && r.outcome !== 'pending'));
    expect(call.clientAborted).toBe(true);
    expect(call.endedAt! - deletedAt).toBeLessThan(1000);
  });

  it('a queued reply can be cancelled before any worker takes it; a completed one is 409', async () => {
    const roomId = await room();
    const done = await send(roomId, 'quick', { prefer: 'wait=10' });
    expect((await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/messages/${done.reply.id}/cancel`, headers: user.auth })).statusCode).toBe(409);
  });
});

describe('regenerate', () => {
  it('answers the same prompt again as a new reply, keeps the old one, and does not feed it to the model', async () => {
    const roomId = await room();
    const first = await send(roomId, 'Give me a name', { prefer: 'wait=10' });
    expect(first.reply.status).toBe('completed');
    s.gemini.addRule({ match: (r) => r.stream && r.lastUserText === 'Give me a name', script: { kind: 'reply', text: 'A different answer.' }, times: 1 });
    const res = await s.app.inject({
      method: 'POST',
      url: `/chatroom/${roomId}/messages/${first.reply.id}/regenerate`,
      headers: { ...user.auth, prefer: 'wait=10' },
    });
    expect(res.statusCode).toBe(200);
    const again = res.json();
    expect(again.reply).toMatchObject({ status: 'completed', content: 'A different answer.', replyToId: again.userMessage.id });
    expect(again.userMessage.content).toBe('Give me a name');
    // The new reply is the current branch; the old one is its sibling, one click away.
    expect(again.reply).toMatchObject({ parentId: again.userMessage.id, siblings: { index: 2, count: 2, previousId: first.reply.id, nextId: null } });
    const history = (await s.app.inject({ url: `/chatroom/${roomId}/messages`, headers: user.auth })).json().items;
    expect(history.map((m: { id: string }) => m.id)).toEqual([again.reply.id, again.userMessage.id]);
    const call = s.gemini.requests.filter((r) => r.action === 'streamGenerateContent').at(-1)!;
    expect((call.body as { contents: unknown[] }).contents).toHaveLength(1);

    // A prompt is not a reply to regenerate.
    const prompt = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/messages/${again.userMessage.id}/regenerate`, headers: user.auth });
    expect(prompt.statusCode).toBe(400);
    expect(prompt.json().code).toBe('NOT_A_REPLY');
  });
});

describe('automatic titles', () => {
  const titleRule = (title: string, prompt: string) =>
    s.gemini.addRule({
      match: (request) =>
        JSON.stringify(request.body.systemInstruction ?? '').includes('You name chat conversations') && request.lastUserText.includes(prompt),
      script: { kind: 'reply', text: title },
      times: 1,
    });

  it('names a chatroom after its first exchange, and the (cached) list shows it', async () => {
    const roomId = await room();
    await s.app.inject({ url: '/chatroom', headers: user.auth }); // warm the cache
    titleRule('"Lisbon day trip."', 'Plan a day in Lisbon');
    await send(roomId, 'Plan a day in Lisbon', { prefer: 'wait=10' });
    await waitFor(async () => (await s.app.inject({ url: `/chatroom/${roomId}`, headers: user.auth })).json().title === 'Lisbon day trip', 20_000);
    const list = (await s.app.inject({ url: '/chatroom', headers: user.auth })).json().items;
    expect(list.find((r: { id: string }) => r.id === roomId).title).toBe('Lisbon day trip');
  });

  it('never overwrites a title the user set', async () => {
    const roomId = await room({ title: 'My own title' });
    titleRule('Model title', 'Hello');
    await send(roomId, 'Hello', { prefer: 'wait=10' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await s.app.inject({ url: `/chatroom/${roomId}`, headers: user.auth })).json().title).toBe('My own title');
  });
});

describe('usage', () => {
  it('records tokens per reply and reports today\'s totals in /user/me', async () => {
    const u = await signIn(s.app);
    const roomId = (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: u.auth })).json().id;
    const res = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'Count me' }, headers: { ...u.auth, prefer: 'wait=10' } });
    const usage = res.json().reply.usage;
    expect(usage.inputTokens).toBeGreaterThan(0);
    const me = (await s.app.inject({ url: '/user/me', headers: u.auth })).json();
    expect(me.usage).toMatchObject({ used: 1, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens });
  });
});

// Last: its 200 replies queue 200 low-priority title jobs behind them.
describe('load', () => {
  it('serves 200 concurrent streams on one instance, each complete and correct', async () => {
    // Set-up in batches (the API and worker share one test database); the 200 streams are then all open at once.
    const sent: Array<Awaited<ReturnType<typeof send>>> = [];
    for (let batch = 0; batch < 4; batch++) {
      const rooms = await Promise.all(Array.from({ length: 50 }, () => room()));
      sent.push(...(await Promise.all(rooms.map((id, i) => send(id, `Concurrent ${batch * 50 + i} [[chunks:4]] [[slow:300 first=1500]]`)))));
    }
    const streams = await Promise.all(sent.map((m) => readSse(`${base}${m.links.stream}`, user.auth)));
    const stored = await s.db.selectFrom('message').select(['id', 'status', 'content']).where('id', 'in', sent.map((m) => m.reply.id)).execute();
    const byId = new Map(stored.map((row) => [row.id, row]));
    sent.forEach((m, i) => {
      const row = byId.get(m.reply.id)!;
      expect(row.status).toBe('completed');
      expect(deltas(streams[i]!.events)).toBe(row.content);
      expect(streams[i]!.events.at(-1)?.event).toBe('done');
    });
  }, 60_000);
});
