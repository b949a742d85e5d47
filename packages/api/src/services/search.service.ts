import { randomBytes } from 'node:crypto';
import { AppError, type Store } from '@gemini-chat/shared';
import { decodeCursor, encodeCursor, invalidCursor } from '../lib/cursor.js';
import type { SearchHit, SearchResults } from '../schemas/search.schemas.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// The paging key as the repository wrote it: float4 text and microsecond UTC time.
const RANK = /^\d+(\.\d+)?(e-?\d+)?$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const queryProblem = (code: string, message: string) =>
  new AppError(400, code, message, { errors: [{ in: 'query', field: 'q', message }] });

/**
 * The snippet without its markers, and where the marked words are in it (JavaScript string indexes). The markers
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

export function createSearchService(store: Store) {
  return {
    async search(userId: string, q: string, limit: number, cursor?: string): Promise<SearchResults> {
      let after: { rank: string; createdAt: string; id: string } | undefined;
      if (cursor) {
        const decoded = decodeCursor(cursor, ['r', 't', 'id'] as const);
        if (!RANK.test(decoded.r) || !TIME.test(decoded.t) || !UUID.test(decoded.id)) throw invalidCursor();
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
          ...unmark(row.marked_snippet, markers.start, markers.stop),
          createdAt: row.created_at.toISOString(),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ r: last.rank_key, t: last.created_at_key, id: last.id }) : null,
      };
    },
  };
}
export type SearchService = ReturnType<typeof createSearchService>;
