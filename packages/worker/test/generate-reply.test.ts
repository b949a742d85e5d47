import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReplyText } from '@gemini-chat/fakes';
import { signIn, startStack, waitFor, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

let s: Stack;
let user: SignedIn;
beforeAll(async () => {
  s = await startStack({ QUOTA_BASIC_DAILY: '0', REPLY_MAX_ATTEMPTS: '3', GEMINI_CONTEXT_TOKEN_BUDGET: '400' }, { startWorker });
  user = await signIn(s.app);
});
afterAll(() => s.close());

async function room(body: object = {}): Promise<string> {
  const res = await s.app.inject({ method: 'POST', url: '/chatroom', payload: body, headers: user.auth });
  return res.json().id;
}

async function send(chatroomId: string, content: string, headers: Record<string, string> = {}) {
  return s.app.inject({ method: 'POST', url: `/chatroom/${chatroomId}/message`, payload: { content }, headers: { ...user.auth, ...headers } });
}

/** Sends and waits (Prefer: wait) for the final reply. */
async function ask(chatroomId: string, content: string) {
  const res = await send(chatroomId, content, { prefer: 'wait=20' });
  expect([200, 202]).toContain(res.statusCode);
  const replyId = res.json().reply.id as string;
  return waitFor(async () => {
    const reply = (await s.app.inject({ url: `/chatroom/${chatroomId}/messages/${replyId}`, headers: user.auth })).json();
    return ['completed', 'failed', 'cancelled'].includes(reply.status) ? reply : undefined;
  });
}

/** Reply calls only (automatic titles use non-streamed calls). */
const replyCalls = () => s.gemini.requests.filter((r) => r.action === 'streamGenerateContent');
const lastRequestBody = () => replyCalls().at(-1)!.body as { systemInstruction?: { parts: Array<{ text: string }> }; contents: Array<{ role: string; parts: Array<{ text: string }> }> };

describe('send → queue → Gemini → reply', () => {
  it('answers with history and the system prompt sent to the model, and records usage', async () => {
    const id = await room({ systemPrompt: 'You are terse.' });
    const first = await ask(id, 'First question');
    expect(first).toMatchObject({ status: 'completed', model: 'gemini-flash-latest', error: null });
    expect(first.content).toBe(defaultReplyText({ contents: [{ role: 'user', parts: [{ text: 'First question' }] }] }));
    expect(first.usage.inputTokens).toBeGreaterThan(0);
    expect(first.usage.outputTokens).toBeGreaterThan(0);

    const second = await ask(id, 'Second question');
    expect(second.status).toBe('completed');
    const body = lastRequestBody();
    expect(body.systemInstruction?.parts[0]?.text).toBe('You are terse.');
    expect(body.contents.map((c) => c.role)).toEqual(['user', 'model', 'user']);
    expect(body.contents[0]!.parts[0]!.text).toBe('First question');
    expect(body.contents[1]!.parts[0]!.text).toBe(first.content);
    expect(body.contents[2]!.parts[0]!.text).toBe('Second question');
  });

  it('drops the oldest turns to stay within the token budget, never the prompt', async () => {
    const id = await room();
    // Budget 400 tokens ≈ 1600 characters: three exchanges of ~600 characters cannot all fit.
    for (let i = 0; i < 3; i++) expect((await ask(id, `Turn ${i} ${'x'.repeat(500)}`)).status).toBe('completed');
    await ask(id, 'Final prompt');
    const texts = lastRequestBody().contents.map((c) => c.parts[0]!.text);
    expect(texts.at(-1)).toBe('Final prompt');
    expect(texts.some((t) => t.startsWith('Turn 0'))).toBe(false);
    expect(texts.some((t) => t.startsWith('Turn 2'))).toBe(true);
    expect(texts.join('').length).toBeLessThanOrEqual(1600 + 400);
  });

  it('retries 503s with backoff, then succeeds (one reply, full text)', async () => {
    const id = await room();
    const before = replyCalls().length;
    const reply = await ask(id, 'Flaky [[fail:503 times=2]]');
    expect(reply.status).toBe('completed');
    expect(replyCalls().length - before).toBe(3);
  });

  it('honours the RetryInfo delay of a 429', async () => {
    const id = await room();
    const before = replyCalls().length;
    const reply = await ask(id, 'Busy [[fail:429 retry=1 times=1]]');
    expect(reply.status).toBe('completed');
    const [failedCall, retry] = replyCalls().slice(before);
    expect(retry!.receivedAt - failedCall!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('fails fast on a 400: one call, failed with a clear code, quota unit refunded', async () => {
    const limited = await startStack({ QUOTA_BASIC_DAILY: '5' }, { startWorker });
    try {
      const u = await signIn(limited.app);
      const id = (await limited.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: u.auth })).json().id;
      const res = await limited.app.inject({ method: 'POST', url: `/chatroom/${id}/message`, payload: { content: 'Bad [[fail:400]]' }, headers: { ...u.auth, prefer: 'wait=10' } });
      expect(res.statusCode).toBe(200);
      expect(res.json().reply).toMatchObject({ status: 'failed', error: { code: 'MODEL_REJECTED_REQUEST' } });
      expect(limited.gemini.requests.filter((r) => r.action === 'streamGenerateContent')).toHaveLength(1);
      expect((await limited.app.inject({ url: '/user/me', headers: u.auth })).json().usage.used).toBe(0);
    } finally {
      await limited.close();
    }
  });

  it('fails fast on a blocked prompt', async () => {
    const id = await room();
    const before = replyCalls().length;
    const reply = await ask(id, 'Something [[block]]');
    expect(reply).toMatchObject({ status: 'failed', error: { code: 'PROMPT_BLOCKED' }, content: '' });
    expect(replyCalls().length - before).toBe(1);
  });

  it('a stream cut mid-way is retried and the stored reply is whole, not doubled', async () => {
    const id = await room();
    const reply = await ask(id, 'Cut me [[cut:2 times=1]]');
    expect(reply.status).toBe('completed');
    expect(reply.content).toMatch(/^Fake Gemini reply/);
    expect(reply.content.match(/Fake Gemini reply/g)).toHaveLength(1);
  });

  it('gives up after the last attempt: failed with the reason, and failed replies leave the chatroom usable', async () => {
    const id = await room();
    const reply = await ask(id, 'Down [[fail:503 times=5]]');
    expect(reply).toMatchObject({ status: 'failed', error: { code: 'MODEL_UNAVAILABLE', message: expect.any(String) } });
    expect((await ask(id, 'Are you back?')).status).toBe('completed');
  });
});

describe('timeouts', () => {
  let t: Stack;
  let u: SignedIn;
  beforeAll(async () => {
    t = await startStack({ GEMINI_TIMEOUT_MS: '300', GEMINI_IDLE_TIMEOUT_MS: '300', REPLY_MAX_ATTEMPTS: '2' }, { startWorker });
    u = await signIn(t.app);
  });
  afterAll(() => t.close());

  it('a hung model call is aborted, retried, and finally marked failed with MODEL_TIMEOUT', async () => {
    const id = (await t.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: u.auth })).json().id;
    const res = await t.app.inject({ method: 'POST', url: `/chatroom/${id}/message`, payload: { content: 'Hang [[hang]]' }, headers: { ...u.auth, prefer: 'wait=15' } });
    expect(res.json().reply).toMatchObject({ status: 'failed', error: { code: 'MODEL_TIMEOUT' } });
    await t.gemini.settled();
    expect(t.gemini.requests.filter((r) => r.clientAborted)).toHaveLength(2);
  });
});
