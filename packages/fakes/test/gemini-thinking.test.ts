// Thinking on the fake Gemini, through the real @google/genai SDK: thought summaries before the answer (unary
// and streamed), thinking tokens in usage, and Google's 400 for thinking a model cannot do.
import type { ThinkingConfig } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { countTextTokens, defaultReplyText, THINKING_TOKENS, thoughtSummaries } from '../src/gemini/index.js';
import {
  apiErrorOf,
  bodyOf,
  collect,
  collectUntilError,
  finishReasonsOf,
  textOf,
  useFakeGemini,
  userTurn,
} from './gemini-sdk-helpers.js';

const FLASH = 'gemini-3.8-flash';
const NO_THINKING = 'gemini-2.0-flash';
const PRO = 'gemini-3.1-pro-preview';

const gemini = useFakeGemini();

// The SDK passes thinkingConfig through as given; levels go out in whatever case the caller used.
const thinkingConfig = (config: Record<string, unknown>) => config as ThinkingConfig;
const ask = (model: string, text: string, config: Record<string, unknown>) =>
  gemini.ai.models.generateContent({ model, contents: [userTurn(text)], config: { thinkingConfig: thinkingConfig(config) } });

describe('thought summaries', () => {
  it('come as one thought part before the answer in a unary reply; usage counts the thinking apart', async () => {
    const contents = [userTurn('Why is the sky blue?')];
    const response = await gemini.ai.models.generateContent({ model: FLASH, contents, config: { thinkingConfig: { includeThoughts: true } } });

    const parts = response.candidates?.[0]?.content?.parts ?? [];
    expect(parts).toEqual([
      { text: thoughtSummaries('Why is the sky blue?', undefined).join('\n\n'), thought: true },
      { text: defaultReplyText({ contents }) },
    ]);
    expect(parts[0]?.text).toContain('Thought summary');
    // The SDK's .text skips thought parts.
    expect(response.text).toBe(defaultReplyText({ contents }));
    const prompt = countTextTokens('Why is the sky blue?');
    const answer = countTextTokens(defaultReplyText({ contents }));
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: prompt,
      candidatesTokenCount: answer,
      thoughtsTokenCount: THINKING_TOKENS.medium,
      totalTokenCount: prompt + answer + THINKING_TOKENS.medium,
    });
    expect(gemini.fake.requests[0]).toMatchObject({ model: FLASH, thinkingConfig: { includeThoughts: true }, tools: undefined });
  });

  it('stream first, one thought-only chunk each, then the answer chunks; the level sets the thinking tokens', async () => {
    const contents = [userTurn('Plan a trip [[chunks:3]]')];
    const chunks = await collect(
      await gemini.ai.models.generateContentStream({ model: FLASH, contents, config: { thinkingConfig: thinkingConfig({ includeThoughts: true, thinkingLevel: 'HIGH' }) } }),
    );

    expect(chunks).toHaveLength(5);
    const summaries = thoughtSummaries('Plan a trip', undefined);
    for (const [i, chunk] of chunks.slice(0, 2).entries()) {
      expect(chunk.candidates?.[0]?.content?.parts).toEqual([{ text: summaries[i], thought: true }]);
      expect(chunk.text).toBeUndefined();
    }
    expect(textOf(chunks)).toBe(defaultReplyText({ contents }));
    expect(finishReasonsOf(chunks)).toEqual([undefined, undefined, undefined, undefined, 'STOP']);
    expect(chunks.at(-1)?.usageMetadata?.thoughtsTokenCount).toBe(THINKING_TOKENS.high);
    expect(gemini.fake.requests[0]).toMatchObject({ eventsSent: 5, thinkingConfig: { includeThoughts: true, thinkingLevel: 'HIGH' } });
  });

  it('are left out when thoughts are not included, while a budget still bills thinking; budget 0 bills none', async () => {
    const budgeted = await ask(FLASH, 'hi', { thinkingBudget: 50 });
    expect(budgeted.candidates?.[0]?.content?.parts).toHaveLength(1);
    expect(budgeted.usageMetadata?.thoughtsTokenCount).toBe(50);

    expect((await ask(FLASH, 'hi', { thinkingBudget: -1 })).usageMetadata?.thoughtsTokenCount).toBe(THINKING_TOKENS.medium);
    expect((await ask(FLASH, 'hi', { thinkingLevel: 'low' })).usageMetadata?.thoughtsTokenCount).toBe(THINKING_TOKENS.low);

    const off = await ask(FLASH, 'hi', { thinkingBudget: 0, includeThoughts: true });
    expect(off.candidates?.[0]?.content?.parts).toHaveLength(1);
    expect(off.usageMetadata?.thoughtsTokenCount).toBeUndefined();
  });

  it('spend maxOutputTokens before the answer does', async () => {
    const response = await gemini.ai.models.generateContent({
      model: PRO,
      contents: 'Think hard',
      config: { maxOutputTokens: 140, thinkingConfig: { includeThoughts: true } },
    });
    expect(response.usageMetadata).toMatchObject({ thoughtsTokenCount: THINKING_TOKENS.high, candidatesTokenCount: 140 - THINKING_TOKENS.high });
    expect(response.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
  });
});

describe('thinking the model cannot do', () => {
  const invalid = async (model: string, config: Record<string, unknown>) => {
    const error = await apiErrorOf(ask(model, 'hi', config));
    expect(error.status).toBe(400);
    expect(bodyOf(error).error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
    return bodyOf(error).error.message;
  };

  it('a model without thinking refuses a budget or a level with 400, and takes budget 0 or includeThoughts alone', async () => {
    expect(await invalid(NO_THINKING, { thinkingBudget: 1024 })).toBe(`Thinking is not supported for models/${NO_THINKING}.`);
    expect(await invalid(NO_THINKING, { thinkingLevel: 'low', includeThoughts: true })).toBe(`Thinking is not supported for models/${NO_THINKING}.`);

    const off = await ask(NO_THINKING, 'hi', { thinkingBudget: 0 });
    expect(off.usageMetadata?.thoughtsTokenCount).toBeUndefined();
    const plain = await ask(NO_THINKING, 'hi', { includeThoughts: true });
    expect(plain.candidates?.[0]?.content?.parts).toEqual([{ text: plain.text }]);
    expect(plain.usageMetadata?.thoughtsTokenCount).toBeUndefined();
  });

  it('pro cannot turn thinking off; budgets and levels outside the model are refused; budget and level together too', async () => {
    expect(await invalid(PRO, { thinkingBudget: 0 })).toBe('Budget 0 is invalid. This model only works in thinking mode.');
    expect(await invalid(PRO, { thinkingBudget: 64 })).toBe('The thinking budget 64 is invalid. Please choose a value between 128 and 32768.');
    expect(await invalid(PRO, { thinkingLevel: 'minimal' })).toBe(`Thinking level minimal is not supported for models/${PRO}.`);
    expect(await invalid('gemini-2.5-flash', { thinkingLevel: 'high' })).toContain('Thinking level high is not supported');
    expect(await invalid(FLASH, { thinkingBudget: 100, thinkingLevel: 'low' })).toContain('Only one of');
    expect((await ask(PRO, 'hi', { thinkingBudget: 128 })).usageMetadata?.thoughtsTokenCount).toBe(128);
    // Refused requests are still recorded with what they asked for.
    expect(gemini.fake.requests.at(-2)).toMatchObject({ status: 400, model: FLASH, thinkingConfig: { thinkingBudget: 100, thinkingLevel: 'low' } });
  });
});

describe('thinking with scripting', () => {
  it('markers still fail, cut and override thinking tokens when thoughts are on', async () => {
    const thinking = { thinkingConfig: thinkingConfig({ includeThoughts: true }) };
    expect((await apiErrorOf(gemini.ai.models.generateContent({ model: FLASH, contents: 'x [[fail:503]]', config: thinking }))).status).toBe(503);

    // The thought summaries are events too: cut after them, no answer text arrived.
    const cut = await collectUntilError(await gemini.ai.models.generateContentStream({ model: FLASH, contents: 'x [[cut:2]]', config: thinking }));
    expect(cut.chunks.map((c) => c.candidates?.[0]?.content?.parts?.[0]?.thought)).toEqual([true, true]);

    const counted = await gemini.ai.models.generateContent({ model: FLASH, contents: 'x [[thoughts:7]]', config: thinking });
    expect(counted.usageMetadata?.thoughtsTokenCount).toBe(7);
    expect(counted.candidates?.[0]?.content?.parts?.[0]?.thought).toBe(true);
  });
});
