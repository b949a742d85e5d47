import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from '@gemini-chat/fakes';
import { buildTestApp, expectProblem, freePort, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

// Listed by the fake, and so described from Gemini's model list:
const LISTED = ['gemini-3.5-flash-lite', 'gemini-3.8-flash', 'gemini-3.1-pro-preview'];
// Configured but not listed by the fake (as a model Google retired or has not rolled out would be):
const UNLISTED = 'gemini-3.7-flash';
const MODELS_ENV = {
  GEMINI_MODELS: 'gemini-3.5-flash-lite:basic+pro,gemini-3.8-flash:basic+pro,gemini-3.7-flash:basic,gemini-3.1-pro-preview:pro',
  GEMINI_DEFAULT_MODEL_BASIC: 'gemini-3.5-flash-lite',
  GEMINI_DEFAULT_MODEL_PRO: 'gemini-3.1-pro-preview',
  // The tier is read from the database on every request, so a tier written by the test applies at once.
  LOCAL_CACHE_SECONDS: '0',
};

interface WireModel {
  name: string;
  displayName: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
}

async function makePro(t: TestApp, user: SignedIn) {
  await t.db.updateTable('users').set({ tier: 'pro' }).where('id', '=', user.userId).execute();
}

const listModels = (t: TestApp, user: SignedIn) => t.app.inject({ url: '/models', headers: user.auth });

describe('GET /models with Gemini up', () => {
  let fake: FakeGemini;
  let t: TestApp;
  // What the fake itself says of each model, read over its wire format: the expectations follow its catalog.
  let wire: Map<string, WireModel>;
  const listCalls = () => fake.requests.filter((r) => r.action === 'listModels').length;

  beforeAll(async () => {
    fake = await startFakeGemini({ models: [...LISTED, 'gemini-2.5-flash'] });
    const res = await fetch(`${fake.url}/v1beta/models?pageSize=1000`, { headers: { 'x-goog-api-key': 'test-key' } });
    const body = (await res.json()) as { models: WireModel[] };
    wire = new Map(body.models.map((m) => [m.name.replace(/^models\//, ''), m]));
    fake.reset();
    t = await buildTestApp({ ...MODELS_ENV, GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: 'test-key' });
  });
  afterAll(async () => {
    await t?.close();
    await fake?.close();
  });

  it('shows a basic user the basic models, its default, and Gemini\'s limits', async () => {
    const user = await signIn(t.app);
    const res = await listModels(t, user);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.defaultModel).toBe('gemini-3.5-flash-lite');
    expect(body.nextCursor).toBeNull();
    expect(body.items.map((m: { id: string }) => m.id)).toEqual(['gemini-3.5-flash-lite', 'gemini-3.8-flash', UNLISTED]);
    for (const id of ['gemini-3.5-flash-lite', 'gemini-3.8-flash']) {
      const listed = wire.get(id)!;
      expect(body.items.find((m: { id: string }) => m.id === id)).toEqual({
        id,
        displayName: listed.displayName,
        inputTokenLimit: listed.inputTokenLimit,
        outputTokenLimit: listed.outputTokenLimit,
        inputModalities: ['text', 'image', 'audio', 'video', 'pdf'],
        thinking: true,
        grounding: true,
        tiers: ['basic', 'pro'],
        default: id === 'gemini-3.5-flash-lite',
      });
    }
    // Not in Gemini's list: still offered (the configuration decides), with the limits left unknown.
    expect(body.items[2]).toMatchObject({ id: UNLISTED, displayName: 'Gemini 3.7 Flash', inputTokenLimit: null, outputTokenLimit: null, tiers: ['basic'], default: false });
  });

  it('shows a pro user the pro-only model too, and the pro default', async () => {
    const user = await signIn(t.app);
    await makePro(t, user);
    const body = (await listModels(t, user)).json();
    expect(body.defaultModel).toBe('gemini-3.1-pro-preview');
    expect(body.items.map((m: { id: string }) => m.id)).toEqual(['gemini-3.5-flash-lite', 'gemini-3.8-flash', 'gemini-3.1-pro-preview']);
    expect(body.items.filter((m: { default: boolean }) => m.default).map((m: { id: string }) => m.id)).toEqual(['gemini-3.1-pro-preview']);
    expect(body.items[2]).toMatchObject({ tiers: ['pro'], inputTokenLimit: wire.get('gemini-3.1-pro-preview')!.inputTokenLimit });
  });

  it('asks Gemini once for all of these: the list is cached in the process', async () => {
    const user = await signIn(t.app);
    await listModels(t, user);
    for (let i = 0; i < 3; i++) expect((await listModels(t, user)).statusCode).toBe(200);
    expect(listCalls()).toBe(1);
  });

  it('needs a bearer token', async () => {
    expectProblem(await t.app.inject({ url: '/models' }), 401, 'UNAUTHORIZED');
  });
});

describe('GET /models with Gemini down', () => {
  it('answers at once from the configuration when nothing listens at GEMINI_BASE_URL', async () => {
    const t = await buildTestApp({ ...MODELS_ENV, GEMINI_BASE_URL: `http://127.0.0.1:${await freePort()}` });
    try {
      const user = await signIn(t.app);
      const started = Date.now();
      const res = await listModels(t, user);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.defaultModel).toBe('gemini-3.5-flash-lite');
      expect(body.items.map((m: { id: string }) => m.id)).toEqual(['gemini-3.5-flash-lite', 'gemini-3.8-flash', UNLISTED]);
      expect(body.items[1]).toEqual({
        id: 'gemini-3.8-flash',
        displayName: 'Gemini 3.8 Flash',
        inputTokenLimit: null,
        outputTokenLimit: null,
        inputModalities: ['text', 'image', 'audio', 'video', 'pdf'],
        thinking: true,
        grounding: true,
        tiers: ['basic', 'pro'],
        default: false,
      });
    } finally {
      await t.close();
    }
  });

  it('answers after GEMINI_MODELS_TIMEOUT_MS when Gemini accepts the connection and never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const t = await buildTestApp({ ...MODELS_ENV, GEMINI_BASE_URL: `http://127.0.0.1:${port}`, GEMINI_MODELS_TIMEOUT_MS: '300' });
    try {
      const user = await signIn(t.app);
      const started = Date.now();
      const res = await listModels(t, user);
      const elapsed = Date.now() - started;
      expect(res.statusCode).toBe(200);
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1500);
      expect(res.json().items.every((m: { inputTokenLimit: number | null }) => m.inputTokenLimit === null)).toBe(true);
      // The failure is remembered: the next caller does not wait again.
      const again = Date.now();
      expect((await listModels(t, user)).statusCode).toBe(200);
      expect(Date.now() - again).toBeLessThan(250);
    } finally {
      await t.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
