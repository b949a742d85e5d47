import { googleError } from './gemini-errors.js';
import type { GoogleRpcErrorBody, WireGroundingMetadata, WireGroundingSupport } from './wire.types.js';

// Google Search grounding: a request with `tools: [{ googleSearch: {} }]` gets `groundingMetadata` on its final
// candidate. Everything is derived from the prompt and the answer text, and every link is on example.com or
// example.org: the fake searches nothing and contacts no host.
//
// Segment offsets are UTF-8 byte offsets into the answer part, as Google gives them; zero values are left out
// (proto3 JSON), so a missing startIndex or partIndex means 0.

const MAX_QUERY_CHARS = 80;
const MAX_SUPPORTS = 3;

const toolsOf = (tools: unknown): Record<string, unknown>[] =>
  Array.isArray(tools) ? tools.filter((t): t is Record<string, unknown> => typeof t === 'object' && t !== null) : [];

// The REST docs spell it google_search; the SDK sends googleSearch.
export const wantsGoogleSearch = (tools: unknown): boolean => toolsOf(tools).some((t) => 'googleSearch' in t || 'google_search' in t);

// The Gemini 1.5 retrieval tool, which Gemini 2.0 and later refuse.
export function searchToolError(tools: unknown): GoogleRpcErrorBody | undefined {
  if (!toolsOf(tools).some((t) => 'googleSearchRetrieval' in t || 'google_search_retrieval' in t)) return undefined;
  return googleError(400, {
    message: 'google_search_retrieval is not supported; please use google_search field instead of google_search_retrieval.',
  });
}

// What the fake "searched for": the user's last message (markers removed), on one line and bounded.
export function searchQueryFor(said: string): string {
  const line = said.replace(/\s+/g, ' ').trim();
  const bounded = Array.from(line).slice(0, MAX_QUERY_CHARS).join('').trim();
  return bounded === '' ? 'fake gemini' : bounded;
}

const slug = (query: string): string =>
  query
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'result';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

// The answer's sentences (up to MAX_SUPPORTS) as segments, each backed by one or both sources.
function supportsFor(answer: string, partIndex: number, sources: number): WireGroundingSupport[] {
  const supports: WireGroundingSupport[] = [];
  for (const match of answer.matchAll(/[^\s][^]*?(?:[.!?](?=\s|$)|$)/g)) {
    if (supports.length === MAX_SUPPORTS) break;
    const text = match[0];
    const startIndex = Buffer.byteLength(answer.slice(0, match.index));
    const endIndex = startIndex + Buffer.byteLength(text);
    const n = supports.length;
    supports.push({
      segment: { ...(partIndex > 0 ? { partIndex } : {}), ...(startIndex > 0 ? { startIndex } : {}), endIndex, text },
      groundingChunkIndices: n === MAX_SUPPORTS - 1 ? [0, 1].slice(0, sources) : [n % sources],
    });
  }
  return supports;
}

export function groundingMetadata(query: string, answer: string, partIndex: number): WireGroundingMetadata {
  const q = encodeURIComponent(query);
  const groundingChunks = [
    { web: { uri: `https://example.com/fake-search/${slug(query)}?q=${q}`, title: 'example.com' } },
    { web: { uri: `https://example.org/fake-search/${slug(query)}?q=${q}`, title: 'example.org' } },
  ];
  const groundingSupports = supportsFor(answer, partIndex, groundingChunks.length);
  return {
    webSearchQueries: [query],
    searchEntryPoint: {
      renderedContent: `<div class="container"><a class="chip" href="https://example.com/fake-search?q=${q}">${escapeHtml(query)}</a></div>`,
    },
    groundingChunks,
    ...(groundingSupports.length > 0 ? { groundingSupports } : {}),
  };
}
