import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltas, expectProblem, readSse, signIn, startStack, waitFor, type SignedIn, type SseEvent, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

// Model choice, thinking and grounding end to end: the API checks the model against the caller's tier, the reply
// records what it is generated with, and the worker sends exactly that to Gemini (the fake records each request).
const MODELS_ENV = {
  GEMINI_MODELS: 'gemini-3.5-flash-lite:basic+pro,gemini-3.8-flash:basic+pro,gemini-3.1-pro-preview:pro',
  GEMINI_DEFAULT_MODEL_BASIC: 'gemini-3.8-flash',
  GEMINI_DEFAULT_MODEL_PRO: 'gemini-3.1-pro-preview',
  // The tier is read from the database on every request, so a tier written by the test applies at once.
  LOCAL_CACHE_SECONDS: '0',
  QUOTA_BASIC_DAILY: '0',
  QUOTA_PRO_DAILY: '0',
  GEMINI_MAX_OUTPUT_TOKENS: '2048',
};

let s: Stack;
let basic: SignedIn;
let pro: SignedIn;
let base: string;
beforeAll(async () => {
  s = await startStack(MODELS_ENV, { startWorker });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  basic = await signIn(s.app);
  pro = await signIn(s.app);
  await s.db.updateTable('users').set({ tier: 'pro' }).where('id', '=', pro.userId).execute();
});
afterAll(() => s.close());

const inject = (user: SignedIn, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, headers: Record<string, string> = {}) =>
  s.app.inject({ method, url, ...(payload ? { payload } : {}), headers: { ...user.auth, ...headers } });

async function room(user: SignedIn, body: object = {}): Promise<string> {
  const res = await inject(user, 'POST', '/chatroom', body);
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

async function finished(user: SignedIn, roomId: string, replyId: string) {
  return waitFor(async () => {
    const reply = (await inject(user, 'GET', `/chatroom/${roomId}/messages/${replyId}`)).json();
    return ['completed', 'failed', 'cancelled'].includes(reply.status) ? reply : undefined;
  });
}

async function ask(user: SignedIn, roomId: string, body: object) {
  const res = await inject(user, 'POST', `/chatroom/${roomId}/message`, body, { prefer: 'wait=20' });
  expect([200, 202]).toContain(res.statusCode);
  return finished(user, roomId, res.json().reply.id);
}

const replyCalls = () => s.gemini.requests.filter((r) => r.action === 'streamGenerateContent');
const callFor = (text: string) => replyCalls().findLast((r) => r.lastUserText.includes(text))!;

describe('a chatroom\'s model and the caller\'s tier', () => {
  it('refuses a pro-only model to basic (403) on create, patch and send; an unknown id is 400 everywhere', async () => {
    expectProblem(await inject(basic, 'POST', '/chatroom', { model: 'gemini-3.1-pro-preview' }), 403, 'MODEL_NOT_ALLOWED');
    expectProblem(await inject(basic, 'POST', '/chatroom', { model: 'gemini-9-ultra' }), 400, 'MODEL_UNKNOWN');
    const id = await room(basic);
    expectProblem(await inject(basic, 'PATCH', `/chatroom/${id}`, { model: 'gemini-3.1-pro-preview' }), 403, 'MODEL_NOT_ALLOWED');
    expectProblem(await inject(basic, 'PATCH', `/chatroom/${id}`, { model: 'gemini-9-ultra' }), 400, 'MODEL_UNKNOWN');
    expectProblem(await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'hi', model: 'gemini-3.1-pro-preview' }), 403, 'MODEL_NOT_ALLOWED');
    expectProblem(await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'hi', model: 'gemini-9-ultra' }), 400, 'MODEL_UNKNOWN');
    // Nothing was stored by the refused sends.
    expect((await inject(basic, 'GET', `/chatroom/${id}/messages`)).json().items).toEqual([]);
  });

  it('lets pro use it, and checks again at send time once the user is basic again', async () => {
    const user = await signIn(s.app);
    await s.db.updateTable('users').set({ tier: 'pro' }).where('id', '=', user.userId).execute();
    const res = await inject(user, 'POST', '/chatroom', { model: 'gemini-3.1-pro-preview', settings: { temperature: 0.3 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ model: 'gemini-3.1-pro-preview', settings: { temperature: 0.3 } });
    const id = res.json().id as string;
    const reply = await ask(user, id, { content: 'Pro question' });
    expect(reply).toMatchObject({ status: 'completed', model: 'gemini-3.1-pro-preview', settings: { temperature: 0.3 } });
    expect(callFor('Pro question').model).toBe('gemini-3.1-pro-preview');

    await s.db.updateTable('users').set({ tier: 'basic' }).where('id', '=', user.userId).execute();
    expectProblem(await inject(user, 'POST', `/chatroom/${id}/message`, { content: 'again' }), 403, 'MODEL_NOT_ALLOWED');
    // Back to the tier's default: allowed.
    expect((await inject(user, 'PATCH', `/chatroom/${id}`, { model: null })).json().model).toBeNull();
    expect(await ask(user, id, { content: 'Basic again' })).toMatchObject({ status: 'completed', model: 'gemini-3.8-flash' });
  });

  it('rejects settings out of bounds or unknown', async () => {
    for (const settings of [{ temperature: 3 }, { topP: -0.1 }, { maxOutputTokens: 0 }, { thinking: 'medium' }, { thinking: -1 }, { seed: 1 }]) {
      expectProblem(await inject(basic, 'POST', '/chatroom', { settings }), 400, 'VALIDATION_FAILED');
    }
  });
});

describe('what a reply is generated with', () => {
  it('records the resolved model and settings and sends exactly them to Gemini', async () => {
    const id = await room(basic, { settings: { temperature: 0.2, topP: 0.9, thinking: 'low', googleSearch: true } });
    const reply = await ask(basic, id, {
      content: 'Override me',
      model: 'gemini-3.8-flash',
      settings: { temperature: 1.1, maxOutputTokens: 100000 - 90000, thinking: 2048 },
    });
    expect(reply.status).toBe('completed');
    expect(reply.model).toBe('gemini-3.8-flash');
    expect(reply.settings).toEqual({ temperature: 1.1, topP: 0.9, maxOutputTokens: 10000, thinking: 2048, googleSearch: true });
    const call = callFor('Override me');
    expect(call.model).toBe('gemini-3.8-flash');
    const generationConfig = (call.body as { generationConfig: Record<string, unknown> }).generationConfig;
    // maxOutputTokens never above the server's cap.
    expect(generationConfig).toMatchObject({ temperature: 1.1, topP: 0.9, maxOutputTokens: 2048 });
    expect(call.thinkingConfig).toEqual({ thinkingBudget: 2048 });
    expect(call.tools).toEqual([{ googleSearch: {} }]);
    expect(reply.usage.thinkingTokens).toBeGreaterThan(0);
  });

  it('maps off and levels, and leaves out what the model cannot do', async () => {
    const off = await room(basic, { settings: { thinking: 'off' } });
    await ask(basic, off, { content: 'Thinking off' });
    expect(callFor('Thinking off').thinkingConfig).toEqual({ thinkingBudget: 0 });

    const high = await room(basic, { settings: { thinking: 'high', showThoughts: true } });
    await ask(basic, high, { content: 'Thinking high' });
    expect(callFor('Thinking high').thinkingConfig).toMatchObject({ thinkingLevel: expect.stringMatching(/^high$/i), includeThoughts: true });

    // Pro cannot stop thinking: `off` leaves it at its default rather than failing the reply.
    const proRoom = await room(pro, { settings: { thinking: 'off' } });
    const proReply = await ask(pro, proRoom, { content: 'Pro cannot stop' });
    expect(proReply).toMatchObject({ status: 'completed', settings: {} });
    expect(callFor('Pro cannot stop').thinkingConfig).toBeUndefined();
  });

  it('makes the overrides part of an Idempotency-Key\'s request', async () => {
    const id = await room(basic);
    const key = `k-${Date.now()}`;
    const first = await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'Same', settings: { temperature: 1 } }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    await finished(basic, id, first.json().reply.id);
    const again = await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'Same', settings: { temperature: 1 } }, { 'idempotency-key': key });
    expect(again.statusCode).toBe(202);
    expect(again.json().reply.id).toBe(first.json().reply.id);
    const changed = await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'Same', settings: { temperature: 0.5 } }, { 'idempotency-key': key });
    expectProblem(changed, 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('regenerates with overrides, checked like a send', async () => {
    const id = await room(basic);
    const reply = await ask(basic, id, { content: 'Regenerate me' });
    expectProblem(await inject(basic, 'POST', `/chatroom/${id}/messages/${reply.id}/regenerate`, { model: 'gemini-3.1-pro-preview' }), 403, 'MODEL_NOT_ALLOWED');
    const res = await inject(basic, 'POST', `/chatroom/${id}/messages/${reply.id}/regenerate`, { model: 'gemini-3.5-flash-lite', settings: { temperature: 0 } });
    expect(res.statusCode).toBe(202);
    const again = await finished(basic, id, res.json().reply.id);
    expect(again).toMatchObject({ status: 'completed', model: 'gemini-3.5-flash-lite', settings: { temperature: 0 } });
  });
});

describe('what GET /models promises, the offline Gemini keeps', () => {
  it('every listed model that says it thinks answers a thinking setting with thoughts', async () => {
    const models = (await inject(pro, 'GET', '/models')).json().items as { id: string; thinking: boolean }[];
    const thinking = models.filter((m) => m.thinking);
    expect(thinking.map((m) => m.id)).toContain('gemini-3.5-flash-lite');
    for (const model of thinking) {
      const id = await room(pro, { model: model.id, settings: { thinking: 'low', showThoughts: true } });
      const reply = await ask(pro, id, { content: `Think on ${model.id}` });
      expect(reply, model.id).toMatchObject({ status: 'completed', model: model.id });
      expect(reply.thoughts, model.id).toEqual(expect.any(String));
    }
  });
});

describe('thoughts and citations', () => {
  const terminal = (events: SseEvent[]) => events.some((e) => e.event === 'done' || e.event === 'error');
  const thoughtText = (events: SseEvent[]) => events.filter((e) => e.event === 'thought').map((e) => (e.data as { text: string }).text).join('');

  it('streams thoughts before the answer, stores them apart from the text, and counts thinking tokens', async () => {
    const id = await room(basic, { settings: { thinking: 'low', showThoughts: true } });
    const sent = (await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'Think about it [[slow:30]]' })).json();
    const { events } = await readSse(`${base}${sent.links.stream}`, basic.auth);
    const stored = await finished(basic, id, sent.reply.id);
    expect(stored.status).toBe('completed');
    const kinds = events.map((e) => e.event);
    expect(kinds.indexOf('thought')).toBeGreaterThanOrEqual(0);
    expect(kinds.lastIndexOf('thought')).toBeLessThan(kinds.indexOf('delta'));
    expect(thoughtText(events)).toBe(stored.thoughts);
    expect(stored.thoughts.length).toBeGreaterThan(0);
    expect(deltas(events)).toBe(stored.content);
    expect(stored.content).not.toContain(stored.thoughts);
    expect(stored.usage.thinkingTokens).toBeGreaterThan(0);
    expect(stored.usage.outputTokens).toBeGreaterThanOrEqual(stored.usage.thinkingTokens);
    expect(events.at(-1)).toMatchObject({ event: 'done', data: { thoughts: stored.thoughts } });
  });

  it('keeps thoughts out of a reply without showThoughts', async () => {
    const id = await room(basic, { settings: { thinking: 'low' } });
    const reply = await ask(basic, id, { content: 'Quiet thinking' });
    expect(reply.thoughts).toBeNull();
    expect(reply.usage.thinkingTokens).toBeGreaterThan(0);
  });

  it('resumes thought, text and citations after a cut with Last-Event-ID, matching the stored reply', async () => {
    const id = await room(basic, { settings: { thinking: 'high', showThoughts: true, googleSearch: true } });
    const sent = (await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'Resume my thoughts [[chunks:6]] [[slow:60]]' })).json();
    const url = `${base}${sent.links.stream}`;
    const first = await readSse(url, basic.auth, (events) => events.some((e) => e.event === 'thought'));
    expect(terminal(first.events)).toBe(false);
    const rest = await readSse(url, { ...basic.auth, 'last-event-id': first.events.at(-1)!.id! });
    const all = [...first.events, ...rest.events];
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    const stored = await finished(basic, id, sent.reply.id);
    expect(thoughtText(all)).toBe(stored.thoughts);
    expect(deltas(all)).toBe(stored.content);
    const done = all.at(-1)!;
    expect(done.event).toBe('done');
    expect((done.data as { citations: unknown }).citations).toEqual(stored.citations);
    expect(stored.citations.length).toBeGreaterThan(0);
  });

  it('clears the thoughts with the text when a retry starts over', async () => {
    const id = await room(basic, { settings: { thinking: 'high', showThoughts: true } });
    const sent = (await inject(basic, 'POST', `/chatroom/${id}/message`, { content: 'Retry my thoughts [[cut:2 times=1]] [[slow:30]]' })).json();
    const { events } = await readSse(`${base}${sent.links.stream}`, basic.auth);
    const stored = await finished(basic, id, sent.reply.id);
    expect(stored.status).toBe('completed');
    const reset = events.findLastIndex((e) => e.event === 'reset');
    expect(reset).toBeGreaterThan(0);
    expect(events.slice(0, reset).some((e) => e.event === 'thought')).toBe(true);
    const after = events.slice(reset + 1);
    expect(thoughtText(after)).toBe(stored.thoughts);
    expect(deltas(after)).toBe(stored.content);
  });

  it('gives citation indexes into content as JS string indexes, for text beyond ASCII', async () => {
    const id = await room(basic, { settings: { googleSearch: true } });
    const reply = await ask(basic, id, { content: 'Ünïcödé 日本語の質問 😀 emoji? Ça va. Très bien!' });
    expect(reply.status).toBe('completed');
    expect(reply.citations.length).toBeGreaterThan(0);
    // The fake supports each sentence of the answer, with its text: the indexes must cut exactly that text.
    const call = callFor('日本語');
    expect(call.tools).toEqual([{ googleSearch: {} }]);
    for (const citation of reply.citations) {
      expect(citation.uri).toMatch(/^https:\/\/example\.(com|org)\//);
      expect(citation.startIndex).toBeLessThan(citation.endIndex);
      expect(citation.endIndex).toBeLessThanOrEqual(reply.content.length);
      const cut = reply.content.slice(citation.startIndex, citation.endIndex);
      expect(cut.trim()).toBe(cut);
      expect(cut.length).toBeGreaterThan(0);
    }
    expect([...reply.content].some((char) => char.codePointAt(0)! > 0x7f)).toBe(true);
  });
});
