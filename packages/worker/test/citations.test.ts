import { describe, expect, it } from 'vitest';
import { citationsOf, mergeGrounding, utf16IndexAt } from '../src/gemini/citations.js';

describe('citations from grounding metadata', () => {
  it('turns UTF-8 byte offsets into JS string indexes, through 2-, 3- and 4-byte characters', () => {
    const text = 'aé日😀b';
    const bytes = Buffer.from(text);
    for (const [char, utf16] of [['a', 0], ['é', 1], ['日', 2], ['😀', 3], ['b', 5]] as const) {
      expect(utf16IndexAt(text, bytes.indexOf(Buffer.from(char)))).toBe(utf16);
    }
    expect(utf16IndexAt(text, bytes.length)).toBe(text.length);
    expect(utf16IndexAt(text, bytes.length + 10)).toBe(text.length);
  });

  it('gives one citation per support and chunk it cites, a missing start meaning 0', () => {
    const content = 'Ça va. 日本語です。';
    const second = Buffer.byteLength('Ça va. ');
    const citations = citationsOf(
      {
        groundingChunks: [{ web: { uri: 'https://example.com/a', title: 'example.com' } }, { web: { uri: 'https://example.org/b', domain: 'example.org' } }],
        groundingSupports: [
          { segment: { endIndex: Buffer.byteLength('Ça va.') }, groundingChunkIndices: [0] },
          { segment: { startIndex: second, endIndex: Buffer.byteLength(content) }, groundingChunkIndices: [0, 1, 7] },
        ],
      },
      content,
    );
    expect(citations).toEqual([
      { uri: 'https://example.com/a', title: 'example.com', startIndex: 0, endIndex: 6 },
      { uri: 'https://example.com/a', title: 'example.com', startIndex: 7, endIndex: content.length },
      { uri: 'https://example.org/b', title: 'example.org', startIndex: 7, endIndex: content.length },
    ]);
    expect(content.slice(7)).toBe('日本語です。');
  });

  it('merges grounding spread over chunks: the last non-empty field wins', () => {
    const early = mergeGrounding(undefined, { webSearchQueries: ['q'], groundingChunks: [] });
    const late = mergeGrounding(early, { groundingChunks: [{ web: { uri: 'u' } }], webSearchQueries: [] });
    expect(late).toEqual({ webSearchQueries: ['q'], groundingChunks: [{ web: { uri: 'u' } }] });
  });
});
