import type { GenerateContentRequestBody, ModalityTokenCount, WireContent } from './wire.types.js';

// The fake's tokenizer, chosen so that tests can compute every count by hand:
//   tokens(text) = ceil(codePoints(text) / 4), counted per text part;
//   a content's tokens = the sum over its text parts (non-text parts count 0, roles count 0);
//   promptTokenCount = tokens(systemInstruction) + tokens of every entry of contents (history included).
// Real Gemini tokenizes differently; only the determinism matters here.

export const CHARS_PER_TOKEN = 4;

// Code points, not UTF-16 units, so an emoji is one character and truncation never splits a surrogate pair.
const codePoints = (text: string): string[] => Array.from(text);

export function countTextTokens(text: string): number {
  return Math.ceil(codePoints(text).length / CHARS_PER_TOKEN);
}

export function countContentTokens(content: WireContent | undefined): number {
  let total = 0;
  for (const part of content?.parts ?? []) {
    if (typeof part.text === 'string') total += countTextTokens(part.text);
  }
  return total;
}

export function countPromptTokens(request: Pick<GenerateContentRequestBody, 'systemInstruction' | 'contents'>): number {
  let total = countContentTokens(request.systemInstruction);
  for (const content of request.contents ?? []) total += countContentTokens(content);
  return total;
}

// The longest prefix of `text` that costs at most `maxTokens` tokens.
export function truncateToTokens(text: string, maxTokens: number): string {
  return codePoints(text)
    .slice(0, Math.max(0, maxTokens) * CHARS_PER_TOKEN)
    .join('');
}

// Tokens of a prompt with media, and their split by modality as promptTokensDetails reports it: text parts and
// text files under TEXT, then one entry per other modality present (IMAGE, AUDIO, DOCUMENT for PDFs).
export interface PromptUsage {
  total: number;
  details: ModalityTokenCount[];
}

const MODALITY_ORDER: readonly ModalityTokenCount['modality'][] = ['TEXT', 'IMAGE', 'AUDIO', 'DOCUMENT'];

export function countPromptUsage(
  request: Pick<GenerateContentRequestBody, 'systemInstruction' | 'contents'>,
  media: readonly { modality: ModalityTokenCount['modality']; tokens: number }[],
): PromptUsage {
  const byModality = new Map<ModalityTokenCount['modality'], number>([['TEXT', countPromptTokens(request)]]);
  for (const item of media) byModality.set(item.modality, (byModality.get(item.modality) ?? 0) + item.tokens);
  const details = MODALITY_ORDER.filter((modality) => byModality.has(modality)).map((modality) => ({
    modality,
    tokenCount: byModality.get(modality) ?? 0,
  }));
  return { total: details.reduce((sum, entry) => sum + entry.tokenCount, 0), details };
}
