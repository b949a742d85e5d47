// Scale-out: two API processes and two worker processes, started as operators start them (node + tsx, settings
// from the environment), on one Postgres schema and one Redis prefix; the fake Gemini runs in this process. Each
// worker calls it with an API key of its own, so its recorded requests show which worker generated what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from '@gemini-chat/fakes';
import { deltas, freePort, http, isolate, readSseUntil, signInOver, type Isolated, type SignedIn } from '@gemini-chat/testkit';
import { audit, waitFinal, type Accepted } from './support/ledger.js';
import { API_SERVER, spawnNode, waitForHttp, WORKER_MAIN, type Child } from './support/procs.js';

const PER_NUMBER = 3;

let gemini: FakeGemini;
let iso: Isolated;
const apis: Array<{ child: Child; url: string }> = [];
const workers: Array<{ child: Child; metrics: string; key: string }> = [];

beforeAll(async () => {
  gemini = await startFakeGemini();
  iso = await isolate({
    GEMINI_BASE_URL: gemini.url,
    QUOTA_BASIC_DAILY: '5',
    AUTH_RATE_LIMIT_PER_NUMBER: String(PER_NUMBER),
    REPLY_RETRY_BASE_DELAY_MS: '50',
    WORKER_CONCURRENCY: '2',
    LOG_LEVEL: 'warn',
  });
  for (const name of ['api1', 'api2']) {
    const port = await freePort();
    apis.push({ child: spawnNode(name, API_SERVER, { ...iso.env, PORT: String(port) }), url: `http://127.0.0.1:${port}` });
  }
  for (const name of ['w1', 'w2']) {
    const port = await freePort();
    const key = `key-${name}`;
    workers.push({ child: spawnNode(name, WORKER_MAIN, { ...iso.env, GEMINI_API_KEY: key, WORKER_METRICS_PORT: String(port) }), metrics: `http://127.0.0.1:${port}`, key });
  }
  await Promise.all([...apis.map((a) => waitForHttp(`${a.url}/ready`, a.child)), ...workers.map((w) => waitForHttp(`${w.metrics}/health`, w.child))]);
}, 40_000);

afterAll(async () => {
  // Graceful stop first (SIGTERM), as an orchestrator would; the helper falls back to SIGKILL.
  await Promise.all([...apis, ...workers].map((p) => p.child.stop('SIGTERM', 12_000)));
  await iso?.cleanup();
  await gemini?.close();
});

const api = (i: number) => apis[i % 2]!.url;
const replyCalls = (key: string) => gemini.requests.filter((r) => r.action === 'streamGenerateContent' && r.headers['x-goog-api-key'] === key);

async function room(user: SignedIn, via: number): Promise<string> {
  const res = await http(api(via), 'POST', '/chatroom', { headers: user.auth, body: { title: `room via api${(via % 2) + 1}` } });
  expect(res.status).toBe(201);
  return (res.json() as { id: string }).id;
}

describe('two APIs and two workers on one database and one Redis', () => {
  it('sends spread over both APIs are all answered exactly once, and both workers do part of the work', async () => {
    const user = await signInOver(api(0));
    await iso.db.updateTable('users').set({ tier: 'pro' }).where('id', '=', user.userId).execute(); // pro: 1000 a day
    const rooms = await Promise.all(Array.from({ length: 16 }, (_, i) => room(user, i)));
    const sends = await Promise.all(
      rooms.map(async (chatroomId, i) => {
        const prompt = `scale ${i} [[chunks:4]] [[slow:100 first=50]]`;
        const res = await http(api(i), 'POST', `/chatroom/${chatroomId}/message`, { headers: user.auth, body: { content: prompt } });
        expect(res.status).toBe(202);
        const body = res.json() as { reply: { id: string }; userMessage: { id: string } };
        return { prompt, chatroomId, replyId: body.reply.id, userMessageId: body.userMessage.id } satisfies Accepted;
      }),
    );
    await waitFinal(iso.db, sends.map((a) => a.replyId), 25_000);
    const result = await audit(iso.db, user.userId, sends);
    expect(result.problems).toEqual([]);
    expect(result.completed).toBe(16);

    // Both workers generated replies (2 at a time each, 16 slow replies: neither can do them all alone in time),
    // and together exactly one call per reply.
    const [w1, w2] = workers.map((w) => replyCalls(w.key).filter((r) => r.body && JSON.stringify(r.body).includes('scale ')).length);
    expect(w1).toBeGreaterThan(0);
    expect(w2).toBeGreaterThan(0);
    expect(w1! + w2!).toBe(16);
    for (const w of workers) {
      const metrics = await (await fetch(`${w.metrics}/metrics`)).text();
      expect(metrics).toMatch(/job_duration_seconds_count\{job="generate-reply",outcome="completed"\} [1-9]/);
    }
    // Either API reports the same usage.
    for (const i of [0, 1]) expect(((await http(api(i), 'GET', '/user/me', { headers: user.auth })).json() as { usage: { used: number } }).usage.used).toBe(16);
  }, 40_000);

  it('a stream started on API 1 resumes on API 2 after Last-Event-ID: no gap, no duplicate', async () => {
    const user = await signInOver(api(0));
    const chatroomId = await room(user, 0);
    const sent = await http(api(0), 'POST', `/chatroom/${chatroomId}/message`, { headers: user.auth, body: { content: 'resume across instances [[chunks:8]] [[slow:120 first=50]]' } });
    const { links, reply } = sent.json() as { links: { stream: string }; reply: { id: string } };
    const first = await readSseUntil(`${api(0)}${links.stream}`, user.auth, { stopAfter: (events) => events.filter((e) => e.event === 'delta').length >= 3, timeoutMs: 10_000 });
    expect(first.ended).toBe('stopped');
    const lastId = first.events.at(-1)!.id!;
    const second = await readSseUntil(`${api(1)}${links.stream}`, { ...user.auth, 'last-event-id': lastId }, { timeoutMs: 10_000 });
    expect(second.ended).toBe('end');
    expect(second.events.at(-1)?.event).toBe('done');
    const [row] = await waitFinal(iso.db, [reply.id], 5000);
    expect(deltas(first.events) + deltas(second.events)).toBe(row!.content);
    const ids = [...first.events, ...second.events].map((e) => e.id!);
    expect(new Set(ids).size).toBe(ids.length);
    // The query-string form (for clients that cannot set headers) resumes the same way, on either instance.
    const viaQuery = await readSseUntil(`${api(0)}${links.stream}?lastEventId=${encodeURIComponent(lastId)}`, user.auth, { timeoutMs: 10_000 });
    expect(viaQuery.events.map((e) => e.id)).toEqual(second.events.map((e) => e.id));
  }, 30_000);

  it('a stream resumed after its final event ends at once on either instance (no idle keep-alive stream)', async () => {
    const user = await signInOver(api(0));
    const chatroomId = await room(user, 0);
    const sent = await http(api(0), 'POST', `/chatroom/${chatroomId}/message`, { headers: { ...user.auth, prefer: 'wait=10' }, body: { content: 'finished already' } });
    const { links } = sent.json() as { links: { stream: string } };
    const full = await readSseUntil(`${api(0)}${links.stream}`, user.auth, { timeoutMs: 5000 });
    expect(full.ended).toBe('end');
    const doneId = full.events.at(-1)!.id!;
    // What a browser EventSource does when the server closes the stream: reconnect with the last id it saw.
    for (const i of [0, 1]) {
      const again = await readSseUntil(`${api(i)}${links.stream}`, { ...user.auth, 'last-event-id': doneId }, { timeoutMs: 4000 });
      expect({ api: i + 1, ended: again.ended, events: again.events }).toEqual({ api: i + 1, ended: 'end', events: [] });
    }
  }, 20_000);

  it('the basic daily quota holds across instances: 20 parallel sends over both APIs admit exactly 5', async () => {
    const user = await signInOver(api(1));
    const rooms = await Promise.all(Array.from({ length: 20 }, (_, i) => room(user, i)));
    const sends = await Promise.all(rooms.map((id, i) => http(api(i), 'POST', `/chatroom/${id}/message`, { headers: user.auth, body: { content: `quota ${i}` } })));
    const statuses = sends.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(5).fill(202), ...Array(15).fill(429)]);
    for (const refused of sends.filter((r) => r.status === 429)) {
      expect((refused.json() as { code: string }).code).toBe('QUOTA_EXCEEDED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    }
    const stored = await iso.db.selectFrom('message').select('id').where('user_id', '=', user.userId).where('role', '=', 'assistant').execute();
    expect(stored).toHaveLength(5);
    for (const i of [0, 1]) expect(((await http(api(i), 'GET', '/user/me', { headers: user.auth })).json() as { usage: { used: number } }).usage.used).toBe(5);
  }, 30_000);

  it('the per-number auth limit holds across instances: 10 parallel guesses over both APIs, at most the budget gets through', async () => {
    const victim = await signInOver(api(0)); // signup + verify: 2 of the 3 requests the number may take
    const guesses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => http(api(i), 'POST', '/auth/login', { body: { mobileNumber: victim.mobileNumber, password: `guess ${i}` } })),
    );
    const through = guesses.filter((g) => (g.json() as { code: string }).code !== 'RATE_LIMITED');
    expect(through.length).toBeLessThanOrEqual(PER_NUMBER - 2);
    expect(guesses.every((g) => g.status === 401 || g.status === 429)).toBe(true);
  }, 20_000);

  it('every process stops cleanly on SIGTERM', async () => {
    for (const p of [...apis, ...workers]) {
      await p.child.stop('SIGTERM', 12_000);
      expect({ name: p.child.name, code: p.child.process.exitCode, signal: p.child.process.signalCode }).toEqual({ name: p.child.name, code: 0, signal: null });
    }
  }, 40_000);
});

