import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SearchService } from '../../services/search.service.js';
import { described, errorCodes, TOKEN_OR_KEY_CODES } from '../../schemas/common.schemas.js';
import { SearchQuerySchema, SearchResultsSchema } from '../../schemas/search.schemas.js';

export const searchRoutes: FastifyPluginAsyncTypebox<{ search: SearchService }> = async (app, { search }) => {
  app.get('/search', {
    config: { apiKey: true },
    schema: {
      operationId: 'search',
      summary: 'Search the user\'s chatroom titles and messages',
      description:
        'Full-text search over the caller\'s own chatroom titles and finished prompts and replies (never another ' +
        'user\'s). Web-search syntax: `"exact phrase"`, `OR`, `-word`. Ranked by relevance, then newest first; ' +
        'cursor-paged. A query with no words (only punctuation or operators) is 400 SEARCH_QUERY_EMPTY; one that ' +
        'only leaves words out 400 SEARCH_QUERY_ONLY_EXCLUDES; over 400 characters or holding NUL, 400 VALIDATION_FAILED.',
      tags: ['Search'],
      querystring: SearchQuerySchema,
      response: {
        200: described('A page of matches, best first, with highlighted snippets', SearchResultsSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'INVALID_CURSOR', 'SEARCH_QUERY_EMPTY', 'SEARCH_QUERY_ONLY_EXCLUDES'),
      },
    },
  }, async (request) => search.search(request.auth.userId, request.query.q, request.query.limit ?? 20, request.query.cursor));
};
