// The fake Gemini, driven through the real @google/genai SDK (never a mock), so every assertion is about what
// application code will see. Raw fetch is used only where the SDK hides the wire (framing, auth, routing).
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  countPromptTokens,
  countTextTokens,
  defaultReplyText,
  splitIntoChunks,
  startFakeGemini,
  truncateToTokens,
} from '../src/gemini/index.js';
import {
  apiErrorOf,
  bodyOf,
  collect,
  collectUntilError,
  finishReasonsOf,
  KEY,
  rejectionOf,
  textOf,
  useFakeGemini,
  userTurn,
  type GoogleErrorBody,
} from './gemini-sdk-helpers.js';

const MODEL = 'gemini-3.8-flash';

const gemini = useFakeGemini();

const retryDelayOf = (error: ApiError) =>
  bodyOf(error).error.details?.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay;

describe('replies', () => {
  it('answers generateContent with the deterministic echo and exact usage', async () => {
    const contents = [userTurn('What is 2+2?')];
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents, config: { systemInstruction: 'Be concise.' } });

    const expected = defaultReplyText({ contents });
    expect(expected).toContain('You said: "What is 2+2?"');
    expect(response.text).toBe(expected);
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.modelVersion).toBe(MODEL);
    expect(response.responseId).toMatch(/^[\w-]{22}$/);
    const prompt = countTextTokens('Be concise.') + countTextTokens('What is 2+2?');
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: prompt,
      candidatesTokenCount: countTextTokens(expected),
      totalTokenCount: prompt + countTextTokens(expected),
    });
    expect(response.usageMetadata?.thoughtsTokenCount).toBeUndefined();
  });

  it('streams the same text in several chunks; only the last has finishReason and the final usage', async () => {
    const contents = [userTurn('Tell me a story')];
    const chunks = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents }));

    const expected = defaultReplyText({ contents });
    expect(chunks.length).toBe(splitIntoChunks(expected).length);
    expect(chunks.length).toBeGreaterThan(3);
    expect(textOf(chunks)).toBe(expected);
    expect(finishReasonsOf(chunks)).toEqual([...Array<undefined>(chunks.length - 1).fill(undefined), 'STOP']);
    const prompt = countTextTokens('Tell me a story');
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.usageMetadata).toMatchObject({ promptTokenCount: prompt, totalTokenCount: prompt });
      expect(chunk.usageMetadata?.candidatesTokenCount).toBeUndefined();
    }
    expect(chunks.at(-1)?.usageMetadata).toMatchObject({
      promptTokenCount: prompt,
      candidatesTokenCount: countTextTokens(expected),
      totalTokenCount: prompt + countTextTokens(expected),
    });
    expect(gemini.fake.requests[0]).toMatchObject({ action: 'streamGenerateContent', query: { alt: 'sse' }, eventsSent: chunks.length });

    // modelVersion and responseId repeat on every chunk of one answer; the next answer has its own id.
    expect(new Set(chunks.map((c) => `${c.modelVersion} ${c.responseId}`)).size).toBe(1);
    const next = await gemini.ai.models.generateContent({ model: MODEL, contents });
    expect(next.responseId).not.toBe(chunks[0]?.responseId);
  });

  it('frames the stream as Google does: CRLF-separated data lines, no terminator, text/event-stream', async () => {
    const res = await fetch(`${gemini.fake.url}/v1beta/models/${MODEL}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [userTurn('hi')] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const raw = await res.text();
    expect(raw.endsWith('\r\n\r\n')).toBe(true);
    const events = raw.slice(0, -4).split('\r\n\r\n');
    expect(events.length).toBeGreaterThan(1);
    for (const event of events) expect(event).toMatch(/^data: \{[^\r\n]*\}$/);
    expect(raw).not.toContain('[DONE]');
    const last = JSON.parse(events.at(-1)!.slice('data: '.length)) as Record<string, unknown>;
    expect(Object.keys(last)).toEqual(['candidates', 'usageMetadata', 'modelVersion', 'responseId']);
  });

  it('records the system instruction, the history, the headers and the model of every request', async () => {
    const contents = [userTurn('What is 2+2?'), { role: 'model', parts: [{ text: '4.' }] }, userTurn('And times 3?')];
    const response = await gemini.ai.models.generateContent({
      model: MODEL,
      contents,
      config: { systemInstruction: 'You are a concise assistant.', maxOutputTokens: 1024, temperature: 0.7 },
    });

    expect(response.text).toContain('user turn 2');
    expect(gemini.fake.requests).toHaveLength(1);
    const recorded = gemini.fake.requests[0]!;
    expect(recorded).toMatchObject({
      method: 'POST',
      path: `/v1beta/models/${MODEL}:generateContent`,
      apiVersion: 'v1beta',
      model: MODEL,
      action: 'generateContent',
      status: 200,
      outcome: 'completed',
      clientAborted: false,
      scriptSource: 'default',
    });
    expect(recorded.headers['x-goog-api-key']).toBe(KEY);
    expect(recorded.headers['x-goog-api-client']).toMatch(/^google-genai-sdk\/2\./);
    expect(recorded.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'You are a concise assistant.' }] },
      contents,
      generationConfig: { maxOutputTokens: 1024, temperature: 0.7 },
    });
    const prompt = countPromptTokens(recorded.body as Parameters<typeof countPromptTokens>[0]);
    expect(prompt).toBe(['You are a concise assistant.', 'What is 2+2?', '4.', 'And times 3?'].reduce((n, t) => n + countTextTokens(t), 0));
    expect(response.usageMetadata?.promptTokenCount).toBe(prompt);
  });

  it('serves /v1 as well as /v1beta (the 3.x SDK default)', async () => {
    const v1 = new GoogleGenAI({ apiKey: KEY, apiVersion: 'v1', httpOptions: { baseUrl: gemini.fake.url } });
    const response = await v1.models.generateContent({ model: MODEL, contents: 'hello' });
    expect(response.text).toContain('You said: "hello"');
    expect(gemini.fake.requests[0]).toMatchObject({ path: `/v1/models/${MODEL}:generateContent`, apiVersion: 'v1' });
  });

  it('counts tokens with the same rule as promptTokenCount, for both SDK request shapes', async () => {
    const counted = await gemini.ai.models.countTokens({ model: MODEL, contents: [userTurn('The quick brown fox jumps over the lazy dog.')] });
    expect(counted.totalTokens).toBe(countTextTokens('The quick brown fox jumps over the lazy dog.'));

    // The legacy SDK wraps the whole request, system instruction included.
    const legacy = await fetch(`${gemini.fake.url}/v1beta/models/${MODEL}:countTokens`, {
      method: 'POST',
      headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        generateContentRequest: { model: `models/${MODEL}`, contents: [userTurn('hi')], systemInstruction: { role: 'system', parts: [{ text: 'be nice' }] } },
      }),
    });
    expect(await legacy.json()).toMatchObject({ totalTokens: countTextTokens('hi') + countTextTokens('be nice') });
  });

  it('lists models', async () => {
    const names: string[] = [];
    for await (const model of await gemini.ai.models.list()) names.push(model.name ?? '');
    expect(names).toContain(`models/${MODEL}`);
    expect(gemini.fake.requests[0]).toMatchObject({ method: 'GET', action: 'listModels' });
  });

  it('truncates at maxOutputTokens with finishReason MAX_TOKENS, unary and streamed', async () => {
    const contents = [userTurn('Write a long essay')];
    const full = defaultReplyText({ contents });
    const cut = truncateToTokens(full, 10);
    expect(cut).toHaveLength(40);

    const unary = await gemini.ai.models.generateContent({ model: MODEL, contents, config: { maxOutputTokens: 10 } });
    expect(unary.text).toBe(cut);
    expect(unary.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(unary.usageMetadata?.candidatesTokenCount).toBe(10);

    const chunks = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents, config: { maxOutputTokens: 10 } }));
    expect(textOf(chunks)).toBe(cut);
    expect(finishReasonsOf(chunks).at(-1)).toBe('MAX_TOKENS');
    expect(chunks.at(-1)?.usageMetadata?.candidatesTokenCount).toBe(10);
  });

  it('bills thinking tokens inside maxOutputTokens, and none when thinkingBudget is 0', async () => {
    gemini.fake.configure({ thoughtsTokenCount: 4 });
    const contents = [userTurn('Think first')];
    const prompt = countTextTokens('Think first');

    const thinking = await gemini.ai.models.generateContent({ model: MODEL, contents, config: { maxOutputTokens: 10 } });
    expect(thinking.text).toBe(truncateToTokens(defaultReplyText({ contents }), 6));
    expect(thinking.usageMetadata).toMatchObject({ promptTokenCount: prompt, candidatesTokenCount: 6, thoughtsTokenCount: 4, totalTokenCount: prompt + 10 });

    // Thinking that eats the whole budget leaves a candidate without parts, as the real API sends it.
    gemini.fake.enqueue({ kind: 'reply', thoughtsTokenCount: 50 });
    const starved = await gemini.ai.models.generateContent({ model: MODEL, contents, config: { maxOutputTokens: 10 } });
    expect(starved.text).toBeUndefined();
    expect(starved.candidates?.[0]).toMatchObject({ finishReason: 'MAX_TOKENS', content: { role: 'model' } });
    expect(starved.candidates?.[0]?.content?.parts).toBeUndefined();

    const off = await gemini.ai.models.generateContent({ model: MODEL, contents, config: { thinkingConfig: { thinkingBudget: 0 } } });
    expect(off.usageMetadata?.thoughtsTokenCount).toBeUndefined();
  });

  it('waits the configured time to first chunk and between chunks', async () => {
    gemini.fake.enqueue({ kind: 'reply', text: 'one two three', chunks: 3, firstChunkDelayMs: 120, chunkDelayMs: 40 });
    const started = Date.now();
    const arrivals: number[] = [];
    for await (const _ of await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'pace me' })) arrivals.push(Date.now() - started);

    expect(arrivals).toHaveLength(3);
    expect(arrivals[0]).toBeGreaterThanOrEqual(110);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(70);
  });

  it('sends a fixed reply text, split as asked', async () => {
    gemini.fake.enqueue({ kind: 'reply', text: 'Scripted answer.', chunkChars: 5 });
    const chunks = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'anything' }));
    expect(chunks.map((c) => c.text)).toEqual(['Scrip', 'ted a', 'nswer', '.']);
  });
});

describe('errors', () => {
  it('429 surfaces as ApiError with status 429 and the RetryInfo delay in its message', async () => {
    gemini.fake.enqueue({ kind: 'fail', status: 429, retryDelaySeconds: 7 });
    const error = await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'hi' }));
    expect(error.status).toBe(429);
    expect(bodyOf(error).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    expect(retryDelayOf(error)).toBe('7s');
  });

  it('429 on the stream endpoint rejects before iteration starts', async () => {
    gemini.fake.enqueue({ kind: 'fail', status: 429, retryDelaySeconds: 2.5 });
    const error = await apiErrorOf(gemini.ai.models.generateContentStream({ model: MODEL, contents: 'hi' }));
    expect(error.status).toBe(429);
    expect(retryDelayOf(error)).toBe('2.5s');
  });

  it.each([
    [503, 'UNAVAILABLE'],
    [500, 'INTERNAL'],
    [400, 'INVALID_ARGUMENT'],
    [504, 'DEADLINE_EXCEEDED'],
  ])('%i surfaces as ApiError with Google status %s (unary and stream)', async (code, status) => {
    gemini.fake.enqueue({ kind: 'fail', status: code, times: 2 });
    const unary = await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'hi' }));
    const stream = await apiErrorOf(gemini.ai.models.generateContentStream({ model: MODEL, contents: 'hi' }));
    for (const error of [unary, stream]) {
      expect(error.status).toBe(code);
      expect(bodyOf(error).error).toMatchObject({ code, status });
    }
  });

  it('fails N times, then succeeds', async () => {
    gemini.fake.enqueue({ kind: 'fail', status: 503, times: 2 });
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'retry me' }))).status).toBe(503);
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'retry me' }))).status).toBe(503);
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents: 'retry me' });
    expect(response.text).toContain('retry me');
    expect(gemini.fake.requests.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('an error sent as text/event-stream still has the status, with Google body nested as a string', async () => {
    gemini.fake.enqueue({ kind: 'fail', status: 503, contentType: 'event-stream' });
    const error = await apiErrorOf(gemini.ai.models.generateContentStream({ model: MODEL, contents: 'hi' }));
    expect(error.status).toBe(503);
    const outer = JSON.parse(error.message) as { error: { message: string; code: number; status: string } };
    expect(outer.error).toMatchObject({ code: 503, status: 'Service Unavailable' });
    expect((JSON.parse(outer.error.message) as GoogleErrorBody).error.status).toBe('UNAVAILABLE');
  });

  it("answers unknown routes with Google's 404 body", async () => {
    const res = await fetch(`${gemini.fake.url}/v1beta/tunedModels/x:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': KEY } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect(await res.json()).toEqual({ error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
  });

  it('answers 404 NOT_FOUND for an unknown model when asked to', async () => {
    const strict = await startFakeGemini({ rejectUnknownModels: true, models: [MODEL] });
    try {
      const client = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: strict.url } });
      const error = await apiErrorOf(client.models.generateContent({ model: 'gemini-1.5-flash', contents: 'hi' }));
      expect(error.status).toBe(404);
      expect(bodyOf(error).error.message).toMatch(/^models\/gemini-1\.5-flash is not found for API version v1beta/);
    } finally {
      await strict.close();
    }
  });

  it('rejects a missing key with 403 and a wrong key with 400 API_KEY_INVALID', async () => {
    const missing = await fetch(`${gemini.fake.url}/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      body: JSON.stringify({ contents: [userTurn('hi')] }),
    });
    expect(missing.status).toBe(403);
    expect(await missing.json()).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });

    const keyed = await startFakeGemini({ apiKey: 'the-right-key' });
    try {
      const wrong = new GoogleGenAI({ apiKey: 'a-wrong-key', httpOptions: { baseUrl: keyed.url } });
      const error = await apiErrorOf(wrong.models.generateContent({ model: MODEL, contents: 'hi' }));
      expect(error.status).toBe(400);
      expect(bodyOf(error).error.details?.[0]).toMatchObject({ reason: 'API_KEY_INVALID' });
      const right = new GoogleGenAI({ apiKey: 'the-right-key', httpOptions: { baseUrl: keyed.url } });
      expect((await right.models.generateContent({ model: MODEL, contents: 'hi' })).text).toBeDefined();
    } finally {
      await keyed.close();
    }
  });
});

describe('prompt blocks', () => {
  it('blocks a prompt with promptFeedback and no candidates (HTTP 200, not an error)', async () => {
    gemini.fake.enqueue({ kind: 'block' });
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents: 'something awful' });
    expect(response.text).toBeUndefined();
    expect(response.candidates).toBeUndefined();
    expect(response.promptFeedback).toMatchObject({ blockReason: 'SAFETY', safetyRatings: [{ probability: 'HIGH' }, { probability: 'NEGLIGIBLE' }] });
    const prompt = countTextTokens('something awful');
    expect(response.usageMetadata).toMatchObject({ promptTokenCount: prompt, totalTokenCount: prompt });
    expect(gemini.fake.requests[0]?.status).toBe(200);
  });

  it('blocks a streamed prompt with a single such event', async () => {
    gemini.fake.enqueue({ kind: 'block', reason: 'PROHIBITED_CONTENT' });
    const chunks = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'something awful' }));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.candidates).toBeUndefined();
    expect(chunks[0]?.promptFeedback?.blockReason).toBe('PROHIBITED_CONTENT');
  });

  it('can end a candidate with SAFETY instead', async () => {
    gemini.fake.enqueue({ kind: 'reply', text: 'No', finishReason: 'SAFETY' });
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents: 'hm' });
    expect(response.text).toBe('No');
    expect(response.candidates?.[0]?.finishReason).toBe('SAFETY');
    expect(response.candidates?.[0]?.safetyRatings?.some((r) => r.probability === 'HIGH')).toBe(true);
  });
});

describe('broken streams', () => {
  it('a stream cut mid-JSON makes the iterator throw after the chunks that arrived', async () => {
    gemini.fake.enqueue({ kind: 'cut', afterChunks: 2 });
    const { chunks, error } = await collectUntilError(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'cut me' }));
    expect(chunks).toHaveLength(2);
    expect(finishReasonsOf(chunks)).toEqual([undefined, undefined]);
    // undici's view of a connection closed mid-body; the SDK rethrows it as is.
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('terminated');
    await gemini.fake.settled();
    expect(gemini.fake.requests[0]).toMatchObject({ outcome: 'server-cut', eventsSent: 2, clientAborted: false });
  });

  it('a unary answer cut mid-body rejects', async () => {
    gemini.fake.enqueue({ kind: 'cut' });
    const error = await rejectionOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'cut me' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error).not.toBeInstanceOf(ApiError);
  });

  it('a stream that ends without finishReason ends quietly; half an event at EOF throws', async () => {
    gemini.fake.enqueue({ kind: 'stop', afterChunks: 2 });
    const quiet = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'stop early' }));
    expect(quiet).toHaveLength(2);
    expect(finishReasonsOf(quiet)).toEqual([undefined, undefined]);

    gemini.fake.enqueue({ kind: 'stop', afterChunks: 1, midJson: true });
    const { chunks, error } = await collectUntilError(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'stop early' }));
    expect(chunks).toHaveLength(1);
    expect((error as Error).message).toBe('Incomplete JSON segment at the end');
  });

  it('a hung request is ended by config.abortSignal, and the fake records the abort', async () => {
    gemini.fake.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await rejectionOf(
      gemini.ai.models.generateContentStream({ model: MODEL, contents: 'hang', config: { abortSignal: controller.signal } }),
    );
    expect((error as Error).name).toBe('AbortError');
    await gemini.fake.settled();
    expect(gemini.fake.requests[0]).toMatchObject({ outcome: 'client-aborted', clientAborted: true, status: undefined });
  });

  it('a stream that stalls mid-way is ended by config.abortSignal', async () => {
    gemini.fake.enqueue({ kind: 'hang', afterChunks: 2 });
    const controller = new AbortController();
    const stream = await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'stall', config: { abortSignal: controller.signal } });
    const chunks: GenerateContentResponse[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of stream) {
          chunks.push(chunk);
          if (chunks.length === 2) setTimeout(() => controller.abort(), 20);
        }
      })(),
    );
    expect(chunks).toHaveLength(2);
    expect((error as Error).name).toBe('AbortError');
    await gemini.fake.settled();
    expect(gemini.fake.requests[0]).toMatchObject({ outcome: 'client-aborted', clientAborted: true, status: 200, eventsSent: 2 });
  });

  it('close() ends hung and slow connections at once and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const doomed = await startFakeGemini({ chunkDelayMs: 60_000 });
    const client = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: doomed.url } });
    const baseline = timers();

    doomed.enqueue({ kind: 'hang' });
    const hung = rejectionOf(client.models.generateContent({ model: MODEL, contents: 'hang' }));
    const slow = await client.models.generateContentStream({ model: MODEL, contents: 'slow' });
    const firstChunk = await slow.next();
    expect(firstChunk.done).toBe(false); // the fake now waits 60 s (a timer) before the second chunk

    const started = Date.now();
    await doomed.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await hung).toBeInstanceOf(TypeError);
    await expect(slow.next()).rejects.toThrow();
    expect(doomed.requests.map((r) => r.outcome)).toEqual(['server-closed', 'server-closed']);
    // The 60 s timer is gone. Other timers of the process (the HTTP client's) come and go, so allow them a moment.
    const deadline = Date.now() + 2_000;
    while (timers() > baseline && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(timers()).toBeLessThanOrEqual(baseline);
  });
});

describe('scripting', () => {
  it('prompt markers fail a given prompt N times with a RetryInfo delay, then answer it, without echoing the marker', async () => {
    const prompt = 'Summarise this [[fail:429 retry=3 times=2]]';
    const first = await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: prompt }));
    const second = await apiErrorOf(gemini.ai.models.generateContentStream({ model: MODEL, contents: prompt }));
    expect([first.status, second.status]).toEqual([429, 429]);
    expect(retryDelayOf(first)).toBe('3s');
    const third = await gemini.ai.models.generateContent({ model: MODEL, contents: prompt });
    expect(third.text).toContain('You said: "Summarise this"');
    expect(gemini.fake.requests.map((r) => r.scriptSource)).toEqual(['marker', 'marker', 'default']);
  });

  it('prompt markers cut, stop, block and pace streams', async () => {
    const cut = await collectUntilError(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'go [[cut:1]]' }));
    expect(cut.chunks).toHaveLength(1);

    const stopped = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'go [[stop:3]]' }));
    expect(finishReasonsOf(stopped)).toEqual([undefined, undefined, undefined]);

    const blocked = await gemini.ai.models.generateContent({ model: MODEL, contents: 'go [[block:BLOCKLIST]]' });
    expect(blocked.promptFeedback?.blockReason).toBe('BLOCKLIST');

    const started = Date.now();
    const slow = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'go [[slow:30 first=60]] [[chunks:3]] [[thoughts:5]]' }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(slow).toHaveLength(3);
    expect(slow.at(-1)?.usageMetadata?.thoughtsTokenCount).toBe(5);
    expect(textOf(slow)).toContain('You said: "go"');
  });

  it('only the last user message carries markers', async () => {
    const contents = [userTurn('earlier [[fail:500]]'), { role: 'model', parts: [{ text: 'ok' }] }, userTurn('now')];
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents });
    expect(response.text).toContain('user turn 2');
  });

  it('rules match the last user message by text, RegExp or predicate until they retire', async () => {
    gemini.fake.addRule({ match: 'forbidden', script: { kind: 'block', reason: 'PROHIBITED_CONTENT' } });
    gemini.fake.addRule({ match: /overload/i, script: { kind: 'fail', status: 503 }, times: 1 });
    gemini.fake.addRule({ match: (r) => r.model === 'gemini-3.6-flash', script: { kind: 'reply', text: 'from 3.6' } });

    expect((await gemini.ai.models.generateContent({ model: MODEL, contents: 'a forbidden topic' })).promptFeedback?.blockReason).toBe('PROHIBITED_CONTENT');
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'OVERLOAD me' }))).status).toBe(503);
    expect((await gemini.ai.models.generateContent({ model: MODEL, contents: 'OVERLOAD me' })).text).toContain('OVERLOAD me');
    expect((await gemini.ai.models.generateContent({ model: 'gemini-3.6-flash', contents: 'hi' })).text).toBe('from 3.6');
  });

  it('the queue comes before rules and markers', async () => {
    gemini.fake.addRule({ match: 'x', script: { kind: 'fail', status: 500 } });
    gemini.fake.enqueue({ kind: 'reply', text: 'queued' });
    expect((await gemini.ai.models.generateContent({ model: MODEL, contents: 'x [[fail:503]]' })).text).toBe('queued');
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'x [[fail:503]]' }))).status).toBe(500);
  });

  it('the HTTP control surface scripts, reports and resets the fake', async () => {
    const control = (path: string, body?: unknown) =>
      fetch(`${gemini.fake.url}/__fake/${path}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });

    expect((await control('script', [{ kind: 'fail', status: 503 }, { kind: 'reply', text: 'second' }])).status).toBe(200);
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: MODEL, contents: 'one' }))).status).toBe(503);
    expect((await gemini.ai.models.generateContent({ model: MODEL, contents: 'two' })).text).toBe('second');

    expect((await control('rules', { match: { regex: 'secret', flags: 'i' }, script: { kind: 'block' } })).status).toBe(200);
    expect((await gemini.ai.models.generateContent({ model: MODEL, contents: 'a SECRET' })).promptFeedback?.blockReason).toBe('SAFETY');

    expect((await control('config', { chunks: 2 })).status).toBe(200);
    expect(await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'two chunks' }))).toHaveLength(2);

    const listed = (await (await control('requests')).json()) as { requests: { action: string; body: unknown; status: number }[] };
    expect(listed.requests.map((r) => r.status)).toEqual([503, 200, 200, 200]);
    expect(listed.requests[0]?.body).toMatchObject({ contents: [userTurn('one')] });

    const bad = await control('script', { kind: 'explode' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { status: 'INVALID_ARGUMENT' } });

    expect((await control('reset', {})).status).toBe(200);
    expect(gemini.fake.requests).toHaveLength(0);
    expect(await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'a secret again' }))).not.toHaveLength(2);
  });
});
