import { randomBytes } from 'node:crypto';
import { AppError, type ErrorCode, type Store } from '@gemini-chat/shared';
import { decodeCursor, encodeCursor, invalidCursor, isUuid } from '../lib/cursor.js';
import type { SearchHit, SearchResults } from '../schemas/search.schemas.js';

// The paging key as the repository wrote it: float4 text and microsecond UTC time.
const RANK = /^\d+(\.\d+)?(e-?\d+)?$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const queryProblem = (code: ErrorCode, message: string) =>
  new AppError(400, code, message, { errors: [{ in: 'query', field: 'q', message }] });

/**
 * The text without its markers, and where the marked words are in it (JavaScript string indexes). The markers
 * are drawn at random for each search, so no stored text can contain them and fake a highlight.
 */
export function unmark(marked: string, start: string, stop: string): Pick<SearchHit, 'snippet' | 'highlights'> {
  let snippet = '';
  const highlights: SearchHit['highlights'] = [];
  let rest = marked;
  for (;;) {
    const open = rest.indexOf(start);
    if (open < 0) break;
    const close = rest.indexOf(stop, open + start.length);
    if (close < 0) break;
    snippet += rest.slice(0, open);
    const word = rest.slice(open + start.length, close);
    // ts_headline marks each matched word on its own, a phrase's words too.
    if (word.length > 0) highlights.push({ start: snippet.length, end: snippet.length + word.length });
    snippet += word;
    rest = rest.slice(close + stop.length);
  }
  snippet += rest;
  return { snippet, highlights };
}

/** How much text a snippet shows, and how much of it comes before the first match. */
const SNIPPET_CHARS = 240;
const SNIPPET_LEAD_CHARS = 60;
const ELLIPSIS = '…';

/**
 * An excerpt of `text` around its first highlight, cut at spaces where there are any (never inside a surrogate
 * pair), with "…" where text was left out; the highlights inside it are moved to its indexes.
 */
export function excerpt(marked: Pick<SearchHit, 'snippet' | 'highlights'>): Pick<SearchHit, 'snippet' | 'highlights'> {
  const { snippet: text, highlights } = marked;
  if (text.length <= SNIPPET_CHARS) return marked;
  const first = highlights[0]?.start ?? 0;
  let start = Math.max(0, first - SNIPPET_LEAD_CHARS);
  if (start > 0) {
    const space = text.indexOf(' ', start);
    if (space >= 0 && space < first) start = space + 1;
  }
  let end = Math.min(text.length, start + SNIPPET_CHARS);
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    if (space > start && space > (highlights[0]?.end ?? 0)) end = space;
  }
  if (isLowSurrogate(text.charCodeAt(start))) start += 1;
  if (isLowSurrogate(text.charCodeAt(end))) end -= 1;
  const prefix = start > 0 ? ELLIPSIS : '';
  const suffix = end < text.length ? ELLIPSIS : '';
  const shift = prefix.length - start;
  return {
    snippet: prefix + text.slice(start, end) + suffix,
    highlights: highlights.filter((h) => h.start >= start && h.end <= end).map((h) => ({ start: h.start + shift, end: h.end + shift })),
  };
}
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

export function createSearchService(store: Store) {
  return {
    async search(userId: string, q: string, limit: number, cursor?: string): Promise<SearchResults> {
      let after: { rank: string; createdAt: string; id: string } | undefined;
      if (cursor) {
        const decoded = decodeCursor(cursor, ['r', 't', 'id'] as const);
        if (!RANK.test(decoded.r) || !TIME.test(decoded.t) || !isUuid(decoded.id)) throw invalidCursor();
        after = { rank: decoded.r, createdAt: decoded.t, id: decoded.id };
      }

      const shape = await store.search.queryShape(q);
      if (shape === 'empty') throw queryProblem('SEARCH_QUERY_EMPTY', 'q has no words to search for (only spaces, punctuation or operators).');
      if (shape === 'only-excluded') {
        throw queryProblem('SEARCH_QUERY_ONLY_EXCLUDES', 'q needs at least one word to find, not only words to leave out (-word).');
      }

      const nonce = randomBytes(8).toString('hex');
      const markers = { start: `hlstart${nonce}x`, stop: `hlstop${nonce}x` };
      const rows = await store.search.search(userId, q, limit + 1, markers, after);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => ({
          chatroomId: row.chatroom_id,
          chatroomTitle: row.chatroom_title,
          messageId: row.message_id,
          role: row.role,
          ...excerpt(unmark(row.marked_snippet, markers.start, markers.stop)),
          createdAt: row.created_at.toISOString(),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ r: last.rank_key, t: last.created_at_key, id: last.id }) : null,
      };
    },
  };
}
export type SearchService = ReturnType<typeof createSearchService>;
