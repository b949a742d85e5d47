import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import Negotiator from 'negotiator';
import { Type } from 'typebox';
import { renderSharePage, SHARE_HEADERS, SHARE_PAGE_HEADERS } from '../../lib/share-page.js';
import { createLimiter } from '../../plugins/rate-limit.js';
import type { ShareService } from '../../services/share.service.js';
import { described, errorCodes, NoContentSchema, PageQuerySchema, PUBLIC_CODES, TOKEN_CODES } from '../../schemas/common.schemas.js';
import { ChatroomParamsSchema } from '../../schemas/chatroom.schemas.js';
import { PublicShareParamsSchema, PublicShareSchema, ShareListSchema, ShareParamsSchema, ShareSchema } from '../../schemas/share.schemas.js';

const tags = ['Shares'];

/** The owner's side: take a share of a chatroom, list and revoke them (bearer-authenticated). */
export const shareRoutes: FastifyPluginAsyncTypebox<{ shares: ShareService }> = async (app, { shares }) => {
  app.post('/chatroom/:id/shares', {
    schema: {
      operationId: 'createShare',
      summary: 'Share the current branch of a chatroom as a read-only link',
      description:
        'Takes a copy of the branch as it is now (the title and the finished messages\' role, text and time; no files, ' +
        'no ids): later messages, edits and branch switches never change it. `url` is public: anyone with it can read ' +
        'the copy at GET /s/{shareId} without signing in, until the share is revoked (DELETE /shares/{id}) or the ' +
        'chatroom is deleted. A branch with no finished message yet is 409 NOTHING_TO_SHARE. No body.',
      tags,
      params: ChatroomParamsSchema,
      response: {
        201: described('The share, with its public url', ShareSchema),
        ...errorCodes(TOKEN_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND', 'NOTHING_TO_SHARE'),
      },
    },
  }, async (request, reply) => reply.code(201).send(await shares.create(request.auth.userId, request.params.id)));

  app.get('/shares', {
    schema: {
      operationId: 'listShares',
      summary: 'The user\'s share links, newest first',
      description: 'Every live share of every chatroom, in pages of `limit` (default 20); pass `nextCursor` as `cursor` for the next page.',
      tags,
      querystring: PageQuerySchema,
      response: { 200: described('A page of shares', ShareListSchema), ...errorCodes(TOKEN_CODES, 'VALIDATION_FAILED', 'INVALID_CURSOR') },
    },
  }, async (request) => shares.list(request.auth.userId, request.query.limit ?? 20, request.query.cursor));

  app.delete('/shares/:id', {
    schema: {
      operationId: 'deleteShare',
      summary: 'Revoke a share link',
      description: 'The link answers 404 from the moment this returns, on every API instance.',
      tags,
      params: ShareParamsSchema,
      response: { 204: described('Revoked', NoContentSchema), ...errorCodes(TOKEN_CODES, 'VALIDATION_FAILED', 'SHARE_NOT_FOUND') },
    },
  }, async (request, reply) => {
    await shares.revoke(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};

const OFFERED = ['application/json', 'text/html'];
/** JSON unless the client prefers HTML (a browser does); an Accept naming neither gets JSON too. */
const wantsHtml = (request: FastifyRequest) => new Negotiator({ headers: request.headers }).mediaType(OFFERED) === 'text/html';

/** The public side: anyone with a link reads the share, as JSON or as a small HTML page; limited per IP. */
export const publicShareRoutes: FastifyPluginAsyncTypebox<{ shares: ShareService; redis: Redis; keyPrefix: string; rateLimitPerIp: number }> = async (
  app,
  { shares, redis, keyPrefix, rateLimitPerIp },
) => {
  // Share ids cannot be guessed, but a per-IP limit keeps anyone from trying at scale or scraping a link hard.
  const perIp = await createLimiter(app, redis, keyPrefix, {
    name: 'share-ip',
    max: rateLimitPerIp,
    timeWindowMs: 60_000,
    keyGenerator: (request) => request.ip,
    message: 'Too many share link requests from this address; slow down.',
  });

  app.get('/s/:shareId', {
    preHandler: perIp,
    schema: {
      operationId: 'getPublicShare',
      summary: 'Read a shared conversation (public, no sign-in)',
      description:
        'JSON `{ title, messages, createdAt }` with nothing about who shared it, or, when Accept prefers `text/html` ' +
        '(a browser), a small read-only page with every text escaped, no script and a strict Content-Security-Policy. ' +
        'Never cached (`Cache-Control: no-store`) and not for search engines (`X-Robots-Tag: noindex`). An unknown, ' +
        'malformed or revoked id, or one whose chatroom was deleted, is 404 SHARE_NOT_FOUND (a problem, as every error). ' +
        `Limited per IP address (SHARE_RATE_LIMIT_PER_IP a minute): 429 RATE_LIMITED with Retry-After.`,
      tags,
      params: PublicShareParamsSchema,
      response: {
        200: {
          description: 'The shared conversation.',
          content: {
            'application/json': { schema: PublicShareSchema },
            'text/html': { schema: Type.String({ description: 'A read-only page of the conversation.' }) },
          },
        },
        ...errorCodes(PUBLIC_CODES, 'RATE_LIMITED', 'SHARE_NOT_FOUND'),
      },
    },
  }, async (request, reply) => {
    reply.headers(SHARE_HEADERS);
    // Errors stay problem documents like everywhere else (a browser shows a missing share's problem as text).
    const share = await shares.getPublic(request.params.shareId);
    if (!wantsHtml(request)) return reply.send(share);
    return reply.headers(SHARE_PAGE_HEADERS).type('text/html; charset=utf-8').send(renderSharePage(share));
  });
};
