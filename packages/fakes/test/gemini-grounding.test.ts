// Google Search grounding on the fake Gemini, through the real @google/genai SDK: groundingMetadata on the final
// candidate, with segments whose UTF-8 byte offsets point into the answer text.
import { type GenerateContentResponse, type GroundingMetadata } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { defaultReplyText, thoughtSummaries } from '../src/gemini/index.js';
import { apiErrorOf, bodyOf, collect, finishReasonsOf, textOf, useFakeGemini, userTurn } from './gemini-sdk-helpers.js';

const MODEL = 'gemini-flash-latest';
const SEARCH = [{ googleSearch: {} }];

const gemini = useFakeGemini();

const groundingOf = (response: GenerateContentResponse | undefined): GroundingMetadata | undefined => response?.candidates?.[0]?.groundingMetadata;

// Every support names a source that exists, and its byte range of the answer is exactly its text.
function expectSupportsInside(grounding: GroundingMetadata | undefined, answer: string): void {
  const bytes = Buffer.from(answer);
  const supports = grounding?.groundingSupports ?? [];
  expect(supports.length).toBeGreaterThan(1);
  for (const { segment, groundingChunkIndices } of supports) {
    expect(bytes.subarray(segment?.startIndex ?? 0, segment?.endIndex).toString()).toBe(segment?.text);
    for (const index of groundingChunkIndices ?? []) expect(grounding?.groundingChunks?.[index]?.web?.uri).toBeDefined();
  }
}

describe('Google Search grounding', () => {
  it('puts queries, example.com sources and byte-offset supports on the unary candidate', async () => {
    const said = 'Qui a gagné l’Euro 2024 ? 🏆';
    const contents = [userTurn(said)];
    const response = await gemini.ai.models.generateContent({ model: MODEL, contents, config: { tools: SEARCH } });

    const answer = defaultReplyText({ contents });
    expect(response.text).toBe(answer);
    const grounding = groundingOf(response);
    expect(grounding?.webSearchQueries).toEqual([said]);
    expect(grounding?.groundingChunks).toEqual([
      { web: { uri: `https://example.com/fake-search/qui-a-gagn-l-euro-2024?q=${encodeURIComponent(said)}`, title: 'example.com' } },
      { web: { uri: `https://example.org/fake-search/qui-a-gagn-l-euro-2024?q=${encodeURIComponent(said)}`, title: 'example.org' } },
    ]);
    expect(grounding?.searchEntryPoint?.renderedContent).toContain('https://example.com/fake-search?q=');
    expectSupportsInside(grounding, answer);
    // The first segment starts at 0, which Google leaves out; later ones count bytes, not characters.
    const [first, , third] = grounding?.groundingSupports ?? [];
    expect(first?.segment?.startIndex).toBeUndefined();
    expect(third?.segment?.startIndex).toBeGreaterThan(answer.indexOf(third?.segment?.text ?? ''));
    expect(third?.groundingChunkIndices).toEqual([0, 1]);
    expect(gemini.fake.requests[0]).toMatchObject({ tools: SEARCH, thinkingConfig: undefined });
  });

  it('arrives on the last stream chunk only, indexing the whole answer the chunks make', async () => {
    const contents = [userTurn('Who won the 2024 Euro? [[chunks:4]]')];
    const chunks = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents, config: { tools: SEARCH } }));

    expect(chunks).toHaveLength(4);
    expect(chunks.slice(0, -1).map(groundingOf)).toEqual([undefined, undefined, undefined]);
    expect(finishReasonsOf(chunks).at(-1)).toBe('STOP');
    expect(groundingOf(chunks.at(-1))?.webSearchQueries).toEqual(['Who won the 2024 Euro?']);
    expectSupportsInside(groundingOf(chunks.at(-1)), textOf(chunks));
  });

  it('with thoughts included, segments point at the answer part after the thought part', async () => {
    const response = await gemini.ai.models.generateContent({
      model: MODEL,
      contents: 'Latest news',
      config: { tools: SEARCH, thinkingConfig: { includeThoughts: true } },
    });
    const parts = response.candidates?.[0]?.content?.parts ?? [];
    expect(parts[0]).toEqual({ text: thoughtSummaries('Latest news', 'Latest news').join('\n\n'), thought: true });
    expect(parts[0]?.text).toContain('Searching the web for "Latest news"');
    for (const support of groundingOf(response)?.groundingSupports ?? []) expect(support.segment?.partIndex).toBe(1);
    expectSupportsInside(groundingOf(response), parts[1]?.text ?? '');
  });

  it('is cut with the answer at maxOutputTokens, and never arrives on a stream that stops before its end', async () => {
    const short = await gemini.ai.models.generateContent({ model: MODEL, contents: 'Tell me', config: { tools: SEARCH, maxOutputTokens: 12 } });
    expect(short.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    for (const { segment } of groundingOf(short)?.groundingSupports ?? []) {
      expect(segment?.endIndex).toBeLessThanOrEqual(Buffer.byteLength(short.text ?? ''));
    }

    const stopped = await collect(await gemini.ai.models.generateContentStream({ model: MODEL, contents: 'x [[stop:2]]', config: { tools: SEARCH } }));
    expect(stopped.map(groundingOf)).toEqual([undefined, undefined]);
  });

  it('refuses the retired googleSearchRetrieval tool with 400', async () => {
    const error = await apiErrorOf(
      gemini.ai.models.generateContent({ model: MODEL, contents: 'hi', config: { tools: [{ googleSearchRetrieval: {} }] } }),
    );
    expect(error.status).toBe(400);
    expect(bodyOf(error).error).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringContaining('use google_search') as string });
  });
});
