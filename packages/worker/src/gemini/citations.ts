import type { GroundingMetadata } from '@google/genai';
import type { Citation } from '@gemini-chat/shared';

/**
 * The UTF-16 index (a JS string index) in `text` at UTF-8 byte offset `byte`. An offset inside a character (which
 * Google should never give) rounds up to the character's end; one past the text clamps to its length.
 */
export function utf16IndexAt(text: string, byte: number): number {
  let bytes = 0;
  let index = 0;
  while (index < text.length && bytes < byte) {
    const code = text.codePointAt(index)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    index += code >= 0x10000 ? 2 : 1;
  }
  return index;
}

/**
 * Citations of a grounded reply: one per (support, chunk it cites), in the order of the supports. Gemini's
 * segment offsets are UTF-8 byte offsets (a missing start means 0); a streamed reply's offsets count across its
 * whole text, which is what `content` holds. Chunks without a web source are skipped.
 */
export function citationsOf(grounding: GroundingMetadata | undefined, content: string): Citation[] {
  const chunks = grounding?.groundingChunks ?? [];
  const citations: Citation[] = [];
  for (const support of grounding?.groundingSupports ?? []) {
    const segment = support.segment;
    if (!segment || segment.endIndex === undefined) continue;
    const startIndex = utf16IndexAt(content, segment.startIndex ?? 0);
    const endIndex = utf16IndexAt(content, segment.endIndex);
    if (endIndex <= startIndex) continue;
    for (const chunkIndex of support.groundingChunkIndices ?? []) {
      const web = chunks[chunkIndex]?.web;
      if (!web?.uri) continue;
      citations.push({ uri: web.uri, title: web.title ?? web.domain ?? web.uri, startIndex, endIndex });
    }
  }
  return citations;
}

/** Grounding spread over stream chunks: per field, the last non-empty value wins. */
export function mergeGrounding(into: GroundingMetadata | undefined, next: GroundingMetadata): GroundingMetadata {
  const merged: GroundingMetadata = { ...into };
  for (const [key, value] of Object.entries(next) as Array<[keyof GroundingMetadata, unknown]>) {
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) continue;
    (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}
