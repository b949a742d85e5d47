// Gemini's `?alt=sse` framing: every event is one line `data: <compact JSON>` followed by CRLF CRLF, with no
// `event:`/`id:` lines and no terminator (the stream ends when the connection closes). Both SDK parsers accept
// this exact shape; the legacy one needs the space after `data:` and one JSON object per line.

export function sseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\r\n\r\n`;
}

// Without `alt=sse` the endpoint streams one JSON array instead (no current SDK asks for it).
export const jsonArrayStream = {
  open: '[',
  separator: '\n,\r\n',
  close: ']',
  element: (payload: unknown): string => JSON.stringify(payload, null, 2),
};

export interface ChunkingOptions {
  // Exact number of chunks (capped at the text's length); wins over chunkChars.
  chunks?: number | undefined;
  // Characters (code points) per chunk; the last chunk takes the remainder.
  chunkChars?: number | undefined;
}

export const DEFAULT_CHUNK_CHARS = 32;

// Splits reply text into streamed deltas. Empty text still yields one (empty) chunk, so a stream always has a
// last event to carry finishReason and the final usage.
export function splitIntoChunks(text: string, options: ChunkingOptions = {}): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [''];
  if (options.chunks !== undefined && options.chunks > 0) {
    const count = Math.min(Math.floor(options.chunks), chars.length);
    const pieces: string[] = [];
    for (let i = 0; i < count; i++) {
      pieces.push(chars.slice(Math.floor((i * chars.length) / count), Math.floor(((i + 1) * chars.length) / count)).join(''));
    }
    return pieces;
  }
  const size = Math.max(1, Math.floor(options.chunkChars ?? DEFAULT_CHUNK_CHARS));
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(''));
  return pieces;
}
