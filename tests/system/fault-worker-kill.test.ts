// Fault: a worker process is SIGKILLed while it streams several replies; a second worker process is running.
// Extends crash-recovery.test.ts (one reply, the second worker started after the kill) to many replies in flight,
// a live peer taking over, clients watching the streams, and the quota. Each worker calls the fake Gemini with an
// API key of its own, so the recorded requests tell which process generated what.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, http, readSseUntil, shownText, signInOver, startStack, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import { audit, waitFinal, type Accepted } from './support/ledger.js';
import { sleep, spawnNode, waitForHttp, WORKER_MAIN, type Child } from './support/procs.js';

let s: Stack;
let base: string;
let user: SignedIn;
const workers: Record<'w1' | 'w2', { child: Child; metrics: string }> = {} as never;

beforeAll(async () => {
  s = await startStack({ WORKER_LOCK_DURATION_MS: '1500', QUOTA_BASIC_DAILY: '20' }, { startWorker, worker: false });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  for (const name of ['w1', 'w2'] as const) {
    const port = await freePort();
    const child = spawnNode(name, WORKER_MAIN, {
      ...s.env,
      GEMINI_API_KEY: `key-${name}`,
      WORKER_CONCURRENCY: '4',
      WORKER_METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
    });
    workers[name] = { child, metrics: `http://127.0.0.1:${port}` };
  }
  await Promise.all(Object.values(workers).map((w) => waitForHttp(`${w.metrics}/health`, w.child)));
  user = await signInOver(base);
}, 40_000);

afterAll(async () => {
  await Promise.all(Object.values(workers).map((w) => w.child.stop('SIGKILL')));
  await s?.close();
});

describe('a worker process killed (SIGKILL) while it streams several replies', () => {
  it('has its replies taken over by the live peer: each completed exactly once, watchers see whole text, quota charged once', async () => {
    const accepted: Accepted[] = [];
    for (let i = 0; i < 6; i++) {
      const chatroomId = ((await http(base, 'POST', '/chatroom', { headers: user.auth, body: { title: `kill ${i}` } })).json() as { id: string }).id;
      const prompt = `kill test ${i} [[chunks:8]] [[slow:150 first=50]]`;
      const res = await http(base, 'POST', `/chatroom/${chatroomId}/message`, { headers: user.auth, body: { content: prompt } });
      expect(res.status).toBe(202);
      const body = res.json() as { reply: { id: string }; userMessage: { id: string } };
      accepted.push({ prompt, chatroomId, replyId: body.reply.id, userMessageId: body.userMessage.id });
    }
    // A client watches every reply as it is written.
    const watchers = accepted.map((a) =>
      readSseUntil(`${base}/chatroom/${a.chatroomId}/messages/${a.replyId}/stream`, user.auth, { timeoutMs: 20_000 }),
    );

    // Kill w1 once it is two chunks into at least one reply.
    const byKey = (key: string) => s.gemini.requests.filter((r) => r.action === 'streamGenerateContent' && r.headers['x-goog-api-key'] === key);
    const deadline = Date.now() + 10_000;
    while (!byKey('key-w1').some((r) => r.outcome === 'pending' && r.eventsSent >= 2)) {
      if (Date.now() > deadline) throw new Error('w1 never got a reply going');
      await sleep(10);
    }
    await workers.w1.child.stop('SIGKILL');
    // Replies w1 was streaming, at least two chunks (300 ms) from their end: certainly cut by the kill. One in its
    // last chunk, or whose model call had just ended, may or may not have been finished by w1 in the instant
    // before the signal: not judged here (the stream checks below hold either way).
    const inFlight = byKey('key-w1').filter((r) => r.outcome === 'pending' || r.outcome === 'client-aborted');
    const victims = inFlight.filter((r) => r.eventsSent <= 6).map((r) => r.lastUserText);

    const rows = await waitFinal(s.db, accepted.map((a) => a.replyId), 20_000);
    const result = await audit(s.db, user.userId, accepted);
    expect(result.problems).toEqual([]);
    expect(result.completed).toBe(6);

    // The victims were started over by w2 (a second attempt), and only w2 answered them afterwards.
    expect(victims.length).toBeGreaterThan(0);
    for (const prompt of victims) {
      const reply = rows.find((r) => r.id === accepted.find((a) => a.prompt === prompt)!.replyId)!;
      expect(reply.attempts).toBe(2);
      const calls = s.gemini.requests.filter((r) => r.action === 'streamGenerateContent' && r.lastUserText === prompt);
      expect(calls.map((c) => c.headers['x-goog-api-key'])).toEqual(['key-w1', 'key-w2']);
    }

    // Watchers: each stream ended with `done`, and the text shown equals the stored reply (not the killed run's
    // text followed by the new run's). Every retried run starts the log with a `reset` (whether or not the killed
    // run had appended anything), and a reply generated in one run has none.
    const streams = await Promise.all(watchers);
    accepted.forEach((a, i) => {
      const { events, ended } = streams[i]!;
      const row = rows.find((r) => r.id === a.replyId)!;
      expect(ended).toBe('end');
      expect(events.at(-1)?.event).toBe('done');
      expect(shownText(events)).toBe(row.content);
      const hasReset = events.some((e) => e.event === 'reset');
      expect({ prompt: a.prompt, hasReset }).toEqual({ prompt: a.prompt, hasReset: row.attempts > 1 });
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    });

    // One unit per prompt: a takeover neither charges again nor refunds.
    const me = await http(base, 'GET', '/user/me', { headers: user.auth });
    expect((me.json() as { usage: { used: number } }).usage.used).toBe(6);
    expect(result.refunded).toBe(0);

    // The survivor reports the work it did and still shuts down cleanly.
    const metrics = await (await fetch(`${workers.w2.metrics}/metrics`)).text();
    expect(metrics).toMatch(/job_duration_seconds_count\{job="generate-reply",outcome="completed"\} [1-9]/);
    await workers.w2.child.stop('SIGTERM');
    expect(workers.w2.child.process.exitCode).toBe(0);
  }, 40_000);
});
