import { randomUUID } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplyEvents, createStore } from '@gemini-chat/shared';
import { deltas, fromTokens, post, readSse, signIn, startStack, waitFor, type SignedIn, type SseEvent, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

// The edges of a reply stream's life: a client that leaves at any moment, one that reads slower than the reply
// is written, and one that resumes after the final event. No worker runs here: the test writes each reply's log
// and row itself (with the same shared code the worker uses), so a reply stays queued for as long as a test
// needs it to, and a stream left running for a queued reply would poll it for ever.

const HEARTBEAT_SECONDS = 5;

let s: Stack;
let user: SignedIn;
let base: URL;
let redis: Redis;
let replyEvents: ReturnType<typeof createReplyEvents>;
let store: ReturnType<typeof createStore>;
const serverSockets = new Set<Socket>();

// Every command the app sends to Redis, as ioredis reports it on its diagnostics channel: how a stream that
// outlived its client shows (it goes on reading the reply's log).
const logReads: string[] = [];
let onLogRead: ((key: string) => void) | undefined;
const onRedisCommand = (message: unknown) => {
  const { command, args } = message as { command: string; args: string[] };
  if (command !== 'xrange' && command !== 'xrevrange') return;
  logReads.push(args[0]!);
  onLogRead?.(args[0]!);
};

beforeAll(async () => {
  s = await startStack({ QUOTA_BASIC_DAILY: '0', SSE_HEARTBEAT_SECONDS: String(HEARTBEAT_SECONDS) }, { startWorker, worker: false });
  base = new URL(await s.app.listen({ port: 0, host: '127.0.0.1' }));
  s.app.server.on('connection', (socket: Socket) => {
    serverSockets.add(socket);
    socket.once('close', () => serverSockets.delete(socket));
  });
  user = await signIn(s.app);
  redis = new Redis(s.config.redis.url);
  replyEvents = createReplyEvents(redis, s.config);
  store = createStore(s.db);
  subscribe('tracing:ioredis:command:start', onRedisCommand);
});
afterAll(async () => {
  unsubscribe('tracing:ioredis:command:start', onRedisCommand);
  redis?.disconnect();
  await s?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const logKey = (replyId: string) => `${s.config.redis.keyPrefix}reply:{${replyId}}:events`;
const readsOf = (replyId: string) => logReads.filter((key) => key === logKey(replyId)).length;
const streamPath = (roomId: string, replyId: string) => `/chatroom/${roomId}/messages/${replyId}/stream`;

/** A new chatroom with a prompt in it; the reply stays queued (no worker runs). */
async function queuedReply(): Promise<{ roomId: string; replyId: string; path: string }> {
  const roomId = (await s.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json().id as string;
  const sent = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/message`, payload: { content: 'Hello' }, headers: user.auth });
  expect(sent.statusCode).toBe(202);
  const replyId = sent.json().reply.id as string;
  return { roomId, replyId, path: streamPath(roomId, replyId) };
}

/** Does what the worker does for a reply: claims it, streams `chunks` to its log, and (with `end`) completes it. */
async function generate(replyId: string, chunks: string[], end: boolean): Promise<void> {
  const token = randomUUID();
  expect(await store.messages.claim(replyId, token)).toBeDefined();
  await replyEvents.claim(replyId, token, false);
  for (const text of chunks) expect(await replyEvents.append(replyId, token, 'delta', { text })).not.toBeNull();
  if (!end) return;
  const content = chunks.join('');
  expect(await store.messages.complete(replyId, token, { content, inputTokens: 1, outputTokens: chunks.length, model: 'test-model' })).toBeDefined();
  expect(await replyEvents.append(replyId, token, 'done', { status: 'completed' })).not.toBeNull();
}

/** Distinct, recognisable chunks, so a lost, repeated or reordered one shows in the text. */
const chunksOf = (count: number, size: number) =>
  Array.from({ length: count }, (_, i) => `[${String(i).padStart(5, '0')}]`.padEnd(size, 'abcdefghijklmnopqrstuvwxyz'.at(i % 26)));

/** The streams the app is serving, from its own gauge. */
async function streamsOpen(): Promise<number> {
  const metrics = (await s.app.inject({ url: '/metrics' })).body;
  return Number(metrics.match(/^reply_streams_open (\d+)$/m)?.[1]);
}

/**
 * How many more streams than `before` the app serves once that number is back to `before`, or when `withinMs`
 * passed first. (A stream an earlier test left running must not fail a later one.)
 */
async function streamsLeftAfter(before: number, withinMs = 2000): Promise<number> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const left = (await streamsOpen()) - before;
    if (left <= 0 || Date.now() > deadline) return left;
    await sleep(25);
  }
}

/**
 * After the client of a queued reply's stream left: within a moment (well under a keep-alive interval, when a
 * waiting stream looks again) nothing serves its stream any more, and nothing listens for the reply: news of it
 * (the worker publishes one on each append) makes no one read its log.
 */
async function expectNothingLeftFor(replyId: string, before: number): Promise<void> {
  await sleep(100); // a request the server was still authenticating reaches the route
  expect(await streamsLeftAfter(before)).toBe(0);
  const readsBefore = readsOf(replyId);
  await redis.publish(replyEvents.channel, replyId);
  await sleep(300);
  expect(readsOf(replyId)).toBe(readsBefore);
}

/** A GET of a stream over a real connection, not yet read. */
function request(path: string, headers: Record<string, string> = {}): ClientRequest {
  const req = http.get({ host: base.hostname, port: base.port, path, agent: false, headers: { accept: 'text/event-stream', ...user.auth, ...headers } });
  req.on('error', () => {}); // destroyed on purpose
  return req;
}

/** A new session of the test's user: its first request looks it up in the database (it is not cached yet). */
async function newSession(): Promise<SignedIn> {
  const { otp } = (await post(s.app, '/auth/send-otp', { mobileNumber: user.mobileNumber })).json();
  return fromTokens(user.mobileNumber, await post(s.app, '/auth/verify-otp', { mobileNumber: user.mobileNumber, otp }));
}

/** Holds an exclusive lock on one of the test schema's tables while `work` runs: every query of it waits. */
async function whileLocked(table: 'session' | 'chatroom' | 'message', work: () => Promise<void>): Promise<void> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const transaction = s.db.transaction().execute(async (trx) => {
    await sql`lock table ${sql.table(table)} in access exclusive mode`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  try {
    await work();
  } finally {
    release();
    await transaction;
  }
}

/** Whether a query of the app waits for the lock on `table`. */
async function someoneWaitsFor(table: string): Promise<boolean> {
  const relation = `${s.config.database.schema}.${table}`;
  const { rows } = await sql<{ waiting: number }>`
    select count(*)::int as waiting from pg_locks where relation = to_regclass(${relation}) and not granted`.execute(s.db);
  return rows[0]!.waiting > 0;
}

describe('a client that leaves while its stream opens', () => {
  it('as soon as the request is sent: nothing is left serving or listening', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    const req = request(path);
    await new Promise<void>((resolve) => req.once('finish', () => resolve()));
    req.destroy();
    await expectNothingLeftFor(replyId, before);
  });

  it('while it is authenticated (before the route runs): nothing is left serving or listening', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    const session = await newSession();
    await whileLocked('session', async () => {
      const req = request(path, session.auth);
      await waitFor(() => someoneWaitsFor('session'));
      req.destroy();
      await sleep(50);
    });
    await expectNothingLeftFor(replyId, before);
  });

  it('during the ownership check: nothing is left serving or listening', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    await whileLocked('chatroom', async () => {
      const req = request(path);
      await waitFor(() => someoneWaitsFor('chatroom'));
      req.destroy();
      await sleep(50); // the close reaches the server while its query still waits
    });
    await expectNothingLeftFor(replyId, before);
  });

  it('while the message is read: nothing is left serving or listening', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    await whileLocked('message', async () => {
      const req = request(path);
      await waitFor(() => someoneWaitsFor('message'));
      req.destroy();
      await sleep(50);
    });
    await expectNothingLeftFor(replyId, before);
  });

  it('during the first read of the log (several times): nothing is left serving or listening', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    for (let attempt = 0; attempt < 5; attempt++) {
      const req = request(path);
      const reading = new Promise<void>((resolve) => {
        onLogRead = (key) => {
          if (key !== logKey(replyId)) return;
          onLogRead = undefined;
          req.destroy(); // while that read is on its way to Redis
          resolve();
        };
      });
      await reading;
      await expectNothingLeftFor(replyId, before);
    }
  });

  it('once it is streaming (waiting for the reply): nothing is left serving or listening', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    const req = request(path);
    const res = await new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => res.once('data', resolve)); // the `retry:` line: the stream is open
    await waitFor(async () => readsOf(replyId) > 0); // it looked at the log (and saw nothing yet)
    req.destroy();
    await expectNothingLeftFor(replyId, before);
  });
});

describe('a client that reads slower than the reply is written', () => {
  // Several megabytes: more than the kernel's socket buffers of both ends hold, so what the server does not
  // hold back piles up in its own memory.
  const CHUNKS = 512;
  const CHUNK_SIZE = 16 * 1024;

  /** The server side of the connection the client `req` uses, once connected. */
  async function serverSocketOf(req: ClientRequest): Promise<Socket> {
    const client = req.socket ?? (await new Promise<Socket>((resolve) => req.once('socket', resolve)));
    if (client.connecting) await new Promise((resolve) => client.once('connect', resolve));
    return waitFor(async () => [...serverSockets].find((socket) => socket.remotePort === client.localPort));
  }

  /** Waits until the server writes nothing more to `socket` (it is held back, or done). */
  async function stalled(socket: Socket): Promise<void> {
    let last = -1;
    let still = 0;
    const deadline = Date.now() + 10_000;
    while (still < 5 && Date.now() < deadline) {
      await sleep(100);
      still = socket.bytesWritten === last ? still + 1 : 0;
      last = socket.bytesWritten;
    }
  }

  async function readEvents(res: IncomingMessage): Promise<SseEvent[]> {
    const events: SseEvent[] = [];
    const parsed = (Readable.toWeb(res) as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    for await (const event of parsed) events.push({ id: event.id, event: event.event, data: JSON.parse(event.data) });
    return events;
  }

  it('holds the stream back while the client does not read, then delivers the whole reply intact', async () => {
    const { roomId, replyId, path } = await queuedReply();
    const before = await streamsOpen();
    const chunks = chunksOf(CHUNKS, CHUNK_SIZE);
    await generate(replyId, chunks, true);

    const req = request(path);
    const res = await new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    // Not reading `res`: once its small buffer is full, the client stops reading the socket.
    const socket = await serverSocketOf(req);
    await stalled(socket);
    expect(socket.writableLength, 'bytes the server holds for the client').toBeLessThan(256 * 1024);
    expect(socket.bytesWritten, 'bytes the client took (it must not have taken the whole reply)').toBeLessThan(CHUNKS * CHUNK_SIZE);

    const events = await readEvents(res);
    const stored = (await s.app.inject({ url: `/chatroom/${roomId}/messages/${replyId}`, headers: user.auth })).json();
    expect(stored.content).toBe(chunks.join(''));
    expect(events.filter((e) => e.event === 'delta').map((e) => (e.data as { text: string }).text)).toEqual(chunks);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { status: 'completed', content: stored.content } });
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(await streamsLeftAfter(before)).toBe(0);
  }, 30_000);

  it('stops when a client that was held back leaves', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    await generate(replyId, chunksOf(CHUNKS, CHUNK_SIZE), false); // still generating: the stream would wait for more

    const req = request(path);
    await new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
    await stalled(await serverSocketOf(req));
    req.destroy();
    await expectNothingLeftFor(replyId, before);
  }, 30_000);
});

describe('resuming a finished reply', () => {
  it('after its final event is 204 No Content (an EventSource then stops reconnecting)', async () => {
    const { replyId, path } = await queuedReply();
    const before = await streamsOpen();
    await generate(replyId, ['One, ', 'two, ', 'three.'], true);
    const full = await readSse(`${base.origin}${path}`, user.auth);
    expect(full.events.map((e) => e.event)).toEqual(['delta', 'delta', 'delta', 'done']);

    const started = Date.now();
    const res = await fetch(`${base.origin}${path}`, { headers: { accept: 'text/event-stream', ...user.auth, 'last-event-id': full.events.at(-1)!.id! } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(Date.now() - started).toBeLessThan(1000);
    // The query form of Last-Event-ID (for clients that cannot set headers) too.
    const byQuery = await fetch(`${base.origin}${path}?lastEventId=${encodeURIComponent(full.events.at(-1)!.id!)}`, { headers: user.auth });
    expect(byQuery.status).toBe(204);
    expect(await streamsLeftAfter(before)).toBe(0);
  });

  it('after the final event of a cancelled reply (its log ended by the API) is 204 too', async () => {
    const { roomId, replyId, path } = await queuedReply();
    const cancelled = await s.app.inject({ method: 'POST', url: `/chatroom/${roomId}/messages/${replyId}/cancel`, headers: user.auth });
    expect(cancelled.json().status).toBe('cancelled');
    const full = await readSse(`${base.origin}${path}`, user.auth);
    expect(full.events.at(-1)).toMatchObject({ event: 'done', data: { status: 'cancelled' } });
    const again = await fetch(`${base.origin}${path}`, { headers: { ...user.auth, 'last-event-id': full.events.at(-1)!.id! } });
    expect(again.status).toBe(204);
  });

  it('before its final event still gets the rest, then the final event', async () => {
    const { replyId, path } = await queuedReply();
    await generate(replyId, ['One, ', 'two, ', 'three.'], true);
    const full = (await readSse(`${base.origin}${path}`, user.auth)).events;

    for (let seen = 1; seen < full.length; seen++) {
      const rest = await readSse(`${base.origin}${path}`, { ...user.auth, 'last-event-id': full[seen - 1]!.id! });
      expect(rest.status).toBe(200);
      expect(rest.events).toEqual(full.slice(seen));
    }
  });

  it('once its live log expired: 204 after the final event of the replay, the rest before it', async () => {
    const { replyId, path } = await queuedReply();
    await generate(replyId, ['Kept ', 'in the database.'], true);
    await redis.del(logKey(replyId)); // what expiry does
    const replay = (await readSse(`${base.origin}${path}`, user.auth)).events;
    expect(replay.map((e) => e.event)).toEqual(['delta', 'done']);
    expect(deltas(replay)).toBe('Kept in the database.');

    const afterDelta = await readSse(`${base.origin}${path}`, { ...user.auth, 'last-event-id': replay[0]!.id! });
    expect(afterDelta.status).toBe(200);
    expect(afterDelta.events).toEqual(replay.slice(1));
    const afterDone = await fetch(`${base.origin}${path}`, { headers: { accept: 'text/event-stream', ...user.auth, 'last-event-id': replay[1]!.id! } });
    expect(afterDone.status).toBe(204);
  });
});
