import { Type, type Static } from 'typebox';
import { Nullable, PageQuerySchema, Timestamp, Uuid } from './common.schemas.js';

export const SEARCH_QUERY_MAX_CHARS = 400;

export const SearchQuerySchema = Type.Object(
  {
    q: Type.String({
      minLength: 1,
      maxLength: SEARCH_QUERY_MAX_CHARS,
      // Postgres text cannot hold NUL; refused here rather than failing in the database.
      pattern: '^[^\\u0000]*$',
      description:
        'Words to find, web-search style: `"exact phrase"`, `word OR word`, `-word` to leave out. Words match whole ' +
        '(case-insensitive, no stemming), in any language. At most 400 characters.',
      examples: ['invoice "due date" -draft'],
    }),
    ...PageQuerySchema.properties,
  },
  { additionalProperties: false },
);

export const SearchHighlightSchema = Type.Object(
  {
    start: Type.Integer({ minimum: 0, description: 'Index of the first highlighted character (JavaScript string index, UTF-16).' }),
    end: Type.Integer({ minimum: 0, description: 'Index just after the last highlighted character.' }),
  },
  { 'x-component-name': 'SearchHighlight', additionalProperties: false },
);

export const SearchHitSchema = Type.Object(
  {
    chatroomId: Uuid(),
    chatroomTitle: Type.String(),
    messageId: Nullable(Uuid('The matching message; null when the chatroom\'s title matched.')),
    role: Nullable(Type.Union([Type.Literal('user'), Type.Literal('assistant')], { description: 'Null for a title hit.' })),
    snippet: Type.String({
      description: 'Plain text (never HTML: escape it before showing it in a page): an excerpt around the matches, or the whole title.',
    }),
    highlights: Type.Array(SearchHighlightSchema, { description: 'The matched words in `snippet`, in order.' }),
    createdAt: Timestamp('When the message, or the chatroom of a title hit, was created.'),
  },
  { 'x-component-name': 'SearchHit', additionalProperties: false },
);
export type SearchHit = Static<typeof SearchHitSchema>;

export const SearchResultsSchema = Type.Object(
  {
    items: Type.Array(SearchHitSchema, { description: 'Best match first (title matches weigh more), then newest.' }),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` (with the same `q`) for the next page.' })),
  },
  { 'x-component-name': 'SearchResults', additionalProperties: false },
);
export type SearchResults = Static<typeof SearchResultsSchema>;
