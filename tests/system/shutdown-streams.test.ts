// Shutdown: an API process started as operators start it (node + tsx) serves open reply streams when it receives
// SIGTERM, as it does on every rollout. A reply stream never ends by itself while its reply is queued, so unless the
// process ends the streams itself its graceful close waits for them until the hard limit (10 s) and exits 1. Here
// the streams must end cleanly at once, the process exit 0 well within the limit, and the client resume on another
// instance (the in-process app) with Last-Event-ID, with no gap and no duplicate. A request in flight at SIGTERM
// must not hold the close either, through the kept-alive connection it leaves behind.
// No worker runs: the test writes a reply's log and row itself (as the worker does), so a reply stays queued or
// half-written for as long as the test needs.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createRedis, createReplyEvents, createStore } from '@gemini-chat/shared';
import { freePort, http, readSseUntil, signInOver, startStack, waitFor, type SignedIn, type SseEvent, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import { API_SERVER, spawnNode, waitForHttp, type Child } from './support/procs.js';

// Well under the 10 s hard limit of the API's graceful close: a stream's end must not wait for a heartbeat or a
// poll interval either (the heartbeat is set far longer than this).
const EXIT_WITHIN_MS = 3000;

let s: Stack;
let base: string;
let user: SignedIn;
let redis: ReturnType<typeof createRedis>;
let replyEvents: ReturnType<typeof createReplyEvents>;
let store: ReturnType<typeof createStore>;
let api: { child: Child; url: string } | undefined;

beforeAll(async () => {
  s = await startStack({ SSE_HEARTBEAT_SECONDS: '30' }, { startWorker, worker: false });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  user = await signInOver(base);
  redis = createRedis(s.config.redis, { kind: 'command', name: 'test' });
  replyEvents = createReplyEvents(redis, s.config);
  store = createStore(s.db);
}, 30_000);

afterAll(async () => {
  await api?.child.stop('SIGKILL');
  if (redis) await closeRedis(redis);
  await s?.close();
});

/** An API process on the stack's database and Redis prefix, as a second replica. */
async function spawnApi(): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  api = { child: spawnNode('api', API_SERVER, { ...s.env, PORT: String(port), LOG_LEVEL: 'warn' }), url: `http://127.0.0.1:${port}` };
  await waitForHttp(`${api.url}/ready`, api.child);
  return api;
}

/** A new chatroom with a prompt in it; its reply stays queued (no worker runs). */
async function queuedReply(): Promise<{ roomId: string; replyId: string; path: string }> {
  const roomId = ((await http(base, 'POST', '/chatroom', { headers: user.auth, body: {} })).json() as { id: string }).id;
  const sent = await http(base, 'POST', `/chatroom/${roomId}/message`, { headers: user.auth, body: { content: 'Hello' } });
  expect(sent.status).toBe(202);
  const replyId = (sent.json() as { reply: { id: string } }).reply.id;
  return { roomId, replyId, path: `/chatroom/${roomId}/messages/${replyId}/stream` };
}

/** SIGTERM, then how the process exited and how long it took. */
async function terminate(child: Child): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const started = performance.now();
  child.process.kill('SIGTERM');
  await child.exited();
  return { code: child.process.exitCode, signal: child.process.signalCode, ms: performance.now() - started };
}

describe('an API process receiving SIGTERM while it serves reply streams', () => {
  it('ends the stream of a queued reply cleanly and exits 0 well within its shutdown limit', async () => {
    const { path } = await queuedReply();
    const { child, url } = await spawnApi();
    const res = await fetch(`${url}${path}`, { headers: { accept: 'text/event-stream', ...user.auth } });
    expect(res.status).toBe(200);
    // The body resolves once the server ends the stream, and rejects if the connection breaks instead.
    const body = res.text();
    body.catch(() => undefined); // awaited below, once the process has exited

    const exit = await terminate(child);
    expect({ ...exit, ms: exit.ms < EXIT_WITHIN_MS }, child.output()).toEqual({ code: 0, signal: null, ms: true });
    const text = await body;
    // A reconnection hint came first and a comment last; no event was sent for a reply that has none yet.
    expect(text).toMatch(/^retry: \d+\n\n/);
    expect(text).toMatch(/\n: server closing, reconnect\n\n$/);
    expect(text).not.toMatch(/^(id|event|data):/m);
  }, 30_000);

  it('ends a half-written reply\'s stream and exits 0; the client resumes on another instance after the last event', async () => {
    const { roomId, replyId, path } = await queuedReply();
    // Do what the worker does: claim the reply and write the first part of its log.
    const token = randomUUID();
    expect(await store.messages.claim(replyId, token)).toBeDefined();
    await replyEvents.claim(replyId, token, false);
    for (const text of ['one ', 'two ']) expect(await replyEvents.append(replyId, token, 'delta', { text })).not.toBeNull();

    const { child, url } = await spawnApi();
    const seen: SseEvent[] = [];
    const first = readSseUntil(`${url}${path}`, user.auth, { timeoutMs: 15_000, onEvent: (e) => seen.push(e) });
    await waitFor(async () => seen.length === 2);

    const exit = await terminate(child);
    expect({ ...exit, ms: exit.ms < EXIT_WITHIN_MS }, child.output()).toEqual({ code: 0, signal: null, ms: true });
    const cut = await first;
    // Ended by the server, cleanly: not broken, not left to time out.
    expect(cut.ended).toBe('end');
    expect(cut.events.map((e) => e.data)).toEqual([{ text: 'one ' }, { text: 'two ' }]);

    // The client reconnects with the last id it saw; the load balancer sends it to another instance.
    const rest: SseEvent[] = [];
    const resumed = readSseUntil(`${base}${path}`, { ...user.auth, 'last-event-id': cut.events.at(-1)!.id! }, {
      timeoutMs: 15_000,
      onEvent: (e) => rest.push(e),
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // the resumed stream waits for what comes next
    expect(await replyEvents.append(replyId, token, 'delta', { text: 'three' })).not.toBeNull();
    expect(await store.messages.complete(replyId, token, { content: 'one two three', inputTokens: 1, outputTokens: 3, model: 'test-model' })).toBeDefined();
    expect(await replyEvents.append(replyId, token, 'done', { status: 'completed' })).not.toBeNull();
    const after = await resumed;
    expect(after.ended).toBe('end');
    expect(after.events.map((e) => e.event)).toEqual(['delta', 'done']);
    expect(after.events[0]!.data).toEqual({ text: 'three' });
    expect(after.events[1]!.data).toMatchObject({ id: replyId, chatroomId: roomId, content: 'one two three', status: 'completed' });
  }, 30_000);

  it('lets a request that was in flight finish, then closes its kept-alive connection and exits 0 promptly', async () => {
    const roomId = ((await http(base, 'POST', '/chatroom', { headers: user.auth, body: {} })).json() as { id: string }).id;
    const { child, url } = await spawnApi();
    // A send that would wait 30 s for its reply (which never comes: no worker) is in flight when SIGTERM arrives: it
    // is answered at once with the reply still queued, not held until the hard limit.
    const held = http(url, 'POST', `/chatroom/${roomId}/message`, { headers: { ...user.auth, prefer: 'wait=30' }, body: { content: 'Hello' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exit = await terminate(child);
    expect({ ...exit, ms: exit.ms < EXIT_WITHIN_MS }, child.output()).toEqual({ code: 0, signal: null, ms: true });
    const answered = await held;
    expect(answered.status).toBe(202);
    expect((answered.json() as { reply: { status: string } }).reply.status).toBe('queued');
    expect(answered.headers.get('connection')).toBe('close');
  }, 30_000);
});
