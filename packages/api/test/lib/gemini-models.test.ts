import { afterEach, describe, expect, it } from 'vitest';
import { startFakeGemini, type FakeGemini } from '@gemini-chat/fakes';
import { freePort } from '@gemini-chat/testkit';
import { createGeminiModelCatalog, createGeminiModelsClient, RETRY_AFTER_FAILURE_MS } from '../../src/lib/gemini-models.js';

const silent = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Parameters<typeof createGeminiModelCatalog>[0]['log'];
const TTL_MS = 600_000;

let fake: FakeGemini | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** The catalog over the real SDK, on a clock the test moves. */
function catalogAt(baseUrl: string) {
  const clock = { now: 1_000_000 };
  const catalog = createGeminiModelCatalog({
    client: createGeminiModelsClient({ apiKey: 'test-key', baseUrl, modelsTimeoutMs: 1000 }),
    ttlMs: TTL_MS,
    timeoutMs: 1000,
    log: silent,
    now: () => clock.now,
  });
  return { catalog, clock };
}

describe('the Gemini model catalog', () => {
  it('reads every page of Gemini\'s list through the SDK', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `gemini-test-${i}`); // more than one page of the default 50
    fake = await startFakeGemini({ models: ids });
    const client = createGeminiModelsClient({ apiKey: 'test-key', baseUrl: fake.url, modelsTimeoutMs: 1000 });
    const models = await client.list(new AbortController().signal);
    expect([...models.keys()]).toEqual(ids);
    expect(models.get('gemini-test-59')).toMatchObject({ id: 'gemini-test-59', inputTokenLimit: expect.any(Number) });
  });

  it('after an outage, asks again once the retry delay has passed, and serves nothing stale meanwhile', async () => {
    const port = await freePort();
    const { catalog, clock } = catalogAt(`http://127.0.0.1:${port}`);
    expect(await catalog.current()).toBeUndefined();

    fake = await startFakeGemini({ port, models: ['gemini-3.8-flash'] });
    clock.now += RETRY_AFTER_FAILURE_MS - 1;
    expect(await catalog.current()).toBeUndefined();
    expect(fake.requests).toHaveLength(0);

    clock.now += 1;
    expect((await catalog.current())?.has('gemini-3.8-flash')).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('once known, answers from the copy it has and refreshes it behind the caller when it is old', async () => {
    fake = await startFakeGemini({ models: ['gemini-3.8-flash'] });
    const { catalog, clock } = catalogAt(fake.url);
    const first = await catalog.current();
    expect(await catalog.current()).toBe(first);
    expect(fake.requests).toHaveLength(1);

    clock.now += TTL_MS;
    expect(await catalog.current()).toBe(first); // the old copy, at once ...
    await expect.poll(async () => (await catalog.current()) !== first).toBe(true); // ... then the new one
    expect(fake.requests).toHaveLength(2);

    // Gemini goes away: the last copy stays the answer, without waiting.
    await fake.close();
    fake = undefined;
    clock.now += TTL_MS;
    const latest = await catalog.current();
    const started = Date.now();
    expect(await catalog.current()).toBe(latest);
    expect(latest?.has('gemini-3.8-flash')).toBe(true);
    expect(Date.now() - started).toBeLessThan(100);
  });
});
