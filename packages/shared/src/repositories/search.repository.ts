import { sql, type RawBuilder } from 'kysely';
import type { MessageRole } from '../db/database.js';
import type { Db } from './db.js';

/** A chatroom title or a completed message that matched, with its snippet still carrying the markers. */
export interface SearchHitRow {
  kind: 'chatroom' | 'message';
  chatroom_id: string;
  chatroom_title: string;
  message_id: string | null;
  role: MessageRole | null;
  /** The whole title, or the message's indexed text, with every matched word wrapped in the caller's markers. */
  marked_snippet: string;
  created_at: Date;
  /** The paging key exactly as Postgres compares it: float4 text and microsecond UTC time. */
  rank_key: string;
  created_at_key: string;
  id: string;
}

/** Where the previous page ended: rank, time and id of its last hit, as they came out of the database. */
export interface SearchAfter {
  rank: string;
  createdAt: string;
  id: string;
}

export interface SearchMarkers {
  start: string;
  stop: string;
}

/** What a web-search query turns into: no words at all, only excluded words, or something an index can find. */
export type SearchQueryShape = 'empty' | 'only-excluded' | 'searchable';

const tsquery = (q: string) => sql`websearch_to_tsquery('simple'::regconfig, ${q})`;

// The first characters of a message are what its search vector covers (see the search migration).
const INDEXED_CHARS = 100_000;

export function createSearchRepository(db: Db) {
  /** The statement search() runs, for EXPLAIN in tests and the benchmark. */
  function searchQuery(userId: string, q: string, limit: number, markers: SearchMarkers, after?: SearchAfter): RawBuilder<SearchHitRow> {
    const query = tsquery(q);
    const afterClause = after
      ? sql`where (hits.rank, hits.created_at, hits.id) < (${after.rank}::real, ${after.createdAt}::timestamptz, ${after.id}::uuid)`
      : sql``;
    // Every word marked in the whole text: ts_headline's own excerpts leave out anything its parser reads as an
    // XML tag ("<b>", "<script>"), so the service cuts the excerpt itself from the complete, unaltered text.
    const headline = (text: unknown) =>
      sql`ts_headline('simple'::regconfig, ${text}, ${query}, ${`StartSel=${markers.start}, StopSel=${markers.stop}, HighlightAll=true`})`;
    return sql<SearchHitRow>`
      select
        page.kind, page.chatroom_id, page.chatroom_title, page.message_id, page.role, page.created_at, page.id,
        page.rank::text as rank_key,
        to_char(page.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_key,
        case when page.kind = 'chatroom' then ${headline(sql.ref('page.chatroom_title'))}
             else ${headline(sql`left(page.content, ${INDEXED_CHARS})`)} end as marked_snippet
      from (
        select * from (
          select 'chatroom' as kind, c.id as chatroom_id, c.title as chatroom_title, null::uuid as message_id,
                 null::text as role, null::text as content, c.created_at, c.id, ts_rank(c.search_tsv, ${query}) as rank
          from chatroom c
          where c.user_id = ${userId} and c.search_tsv @@ ${query}
          union all
          select 'message', m.chatroom_id, c.title, m.id, m.role, m.content, m.created_at, m.id,
                 ts_rank(m.search_tsv, ${query})
          from message m
          join chatroom c on c.id = m.chatroom_id
          where m.user_id = ${userId} and m.status = 'completed' and m.search_tsv @@ ${query}
        ) hits
        ${afterClause}
        order by hits.rank desc, hits.created_at desc, hits.id desc
        limit ${limit}
      ) page
      order by page.rank desc, page.created_at desc, page.id desc
    `;
  }

  return {
    async queryShape(q: string): Promise<SearchQueryShape> {
      const { rows } = await sql<{ nodes: number; tree: string }>`
        select numnode(${tsquery(q)}) as nodes, querytree(${tsquery(q)}) as tree
      `.execute(db);
      const row = rows[0];
      if (!row || row.nodes === 0) return 'empty';
      // querytree() is 'T' when nothing in the query can be looked up in an index: every word is negated.
      return row.tree === 'T' ? 'only-excluded' : 'searchable';
    },

    /**
     * One page of the user's hits: chatroom titles and completed messages, best ts_rank first, then newest. Both
     * lookups name the user inside the GIN index condition (user_id is the indexes' first column), and the
     * snippets are made only for the page's rows.
     */
    async search(userId: string, q: string, limit: number, markers: SearchMarkers, after?: SearchAfter): Promise<SearchHitRow[]> {
      const { rows } = await searchQuery(userId, q, limit, markers, after).execute(db);
      return rows;
    },

    searchQuery,
  };
}
export type SearchRepository = ReturnType<typeof createSearchRepository>;
