import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ChatroomService } from '../../services/chatroom.service.js';
import { described, errorCodes, JSON_BODY_CODES, NoContentSchema, PageQuerySchema, TOKEN_OR_KEY_CODES } from '../../schemas/common.schemas.js';
import {
  ChatroomDetailSchema,
  ChatroomListSchema,
  ChatroomParamsSchema,
  ChatroomSchema,
  CreateChatroomBodySchema,
  ForkChatroomBodySchema,
  UpdateChatroomBodySchema,
} from '../../schemas/chatroom.schemas.js';

const notModified = Type.Null({ description: 'Not modified: the list still matches If-None-Match.' });

/** True when an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for GET). */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

export const chatroomRoutes: FastifyPluginAsyncTypebox<{ chatrooms: ChatroomService }> = async (app, { chatrooms }) => {
  const tags = ['Chatrooms'];

  app.post('/chatroom', {
    config: { apiKey: true },
    schema: {
      operationId: 'createChatroom',
      summary: 'Create a chatroom',
      description:
        'A new, empty conversation: send prompts to it with POST /chatroom/{id}/message. `systemPrompt` steers every reply. ' +
        'Optional `model` (null or omitted: the default of the user\'s tier at each send) and `settings` for its replies. ' +
        'A model the user\'s tier may not use is 403 MODEL_NOT_ALLOWED; an id GET /models does not offer, 400 MODEL_UNKNOWN.',
      tags,
      body: CreateChatroomBodySchema,
      response: {
        201: described('The created chatroom', ChatroomSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, JSON_BODY_CODES, 'MODEL_UNKNOWN', 'MODEL_NOT_ALLOWED'),
      },
    },
  }, async (request, reply) => reply.code(201).send(await chatrooms.create(request.auth, request.body)));

  app.get('/chatroom', {
    config: { apiKey: true },
    schema: {
      operationId: 'listChatrooms',
      summary: 'The user\'s chatrooms, newest activity first',
      description:
        'Pages of `limit` (default 20), newest activity first; pass `nextCursor` as `cursor` for the next page (a cursor ' +
        'this API did not return is 400 INVALID_CURSOR). Cached per user (invalidated by every change). Send ' +
        'If-None-Match with the last ETag to get 304.',
      tags,
      querystring: PageQuerySchema,
      headers: Type.Object({ 'if-none-match': Type.Optional(Type.String({ description: 'The ETag of an earlier answer: 304 while the page is unchanged.' })) }),
      response: {
        200: described('A page of chatrooms', ChatroomListSchema),
        304: notModified,
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'INVALID_CURSOR'),
      },
    },
  }, async (request, reply) => {
    const page = await chatrooms.list(request.auth.userId, request.query.limit ?? 20, request.query.cursor);
    reply.header('etag', page.etag).header('cache-control', 'private, no-cache');
    if (matchesEtag(request.headers['if-none-match'], page.etag)) return reply.code(304).send(null);
    // The cached body is already the exact JSON; sending the string skips re-serialising it.
    return reply.type('application/json; charset=utf-8').send(page.body as never);
  });

  app.get('/chatroom/:id', {
    config: { apiKey: true },
    schema: {
      operationId: 'getChatroom',
      summary: 'One chatroom with the newest messages of its current branch',
      description:
        'The chatroom and the newest messages of its current branch, newest first, as GET /chatroom/{id}/messages pages them (older ones: that route with messagesNextCursor). ' +
        'Someone else\'s chatroom is 404 CHATROOM_NOT_FOUND, exactly as a missing one.',
      tags,
      params: ChatroomParamsSchema,
      response: {
        200: described('The chatroom and its latest messages', ChatroomDetailSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND'),
      },
    },
  }, async (request, reply) => {
    // Serialised by this route's response schema (to a string) once, when loaded; a repeat read sends it as is.
    const body = await chatrooms.get(request.auth.userId, request.params.id, (detail) => reply.serialize(detail) as string);
    return reply.type('application/json; charset=utf-8').send(body as never);
  });

  app.patch('/chatroom/:id', {
    config: { apiKey: true },
    schema: {
      operationId: 'updateChatroom',
      summary: 'Rename a chatroom, change its system prompt (null clears it), model or settings, or switch branch',
      description:
        '`currentMessageId` switches branch: any message of the chatroom, and the newest leaf at or beneath it becomes ' +
        'current. 404 MESSAGE_NOT_FOUND for a message not in the chatroom. `model` (null: the tier\'s default) and ' +
        '`settings` (replaced as a whole) apply to the replies sent from then on; a model the user\'s tier may not use ' +
        'is 403 MODEL_NOT_ALLOWED, an id GET /models does not offer 400 MODEL_UNKNOWN.',
      tags,
      params: ChatroomParamsSchema,
      body: UpdateChatroomBodySchema,
      response: {
        200: described('The updated chatroom', ChatroomSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, JSON_BODY_CODES, 'CHATROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND', 'MODEL_UNKNOWN', 'MODEL_NOT_ALLOWED'),
      },
    },
  }, async (request) => chatrooms.update(request.auth, request.params.id, request.body));

  app.post('/chatroom/:id/fork', {
    config: { apiKey: true },
    schema: {
      operationId: 'forkChatroom',
      summary: 'A new chatroom from a branch, up to a reply',
      description:
        '201 with a new chatroom ("<title> (fork)", same system prompt) holding a copy of the path from the first prompt ' +
        'to `messageId` (new ids; same content, status and usage; not charged again); the copied reply is its current ' +
        'message. `messageId` must be a finished reply: a prompt is 400 NOT_A_REPLY, a reply still queued or generating ' +
        '409 REPLY_NOT_FINISHED, a message not in the chatroom 404 MESSAGE_NOT_FOUND.',
      tags,
      params: ChatroomParamsSchema,
      body: ForkChatroomBodySchema,
      response: {
        201: described('The new chatroom, with the copied messages', ChatroomDetailSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, JSON_BODY_CODES, 'CHATROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND', 'NOT_A_REPLY', 'REPLY_NOT_FINISHED'),
      },
    },
  }, async (request, reply) => reply.code(201).send(await chatrooms.fork(request.auth.userId, request.params.id, request.body)));

  app.delete('/chatroom/:id', {
    config: { apiKey: true },
    schema: {
      operationId: 'deleteChatroom',
      summary: 'Delete a chatroom and its messages',
      description:
        'Deletes the chatroom and its messages; a reply being generated for it stops. Its attached files go too, unless ' +
        'another of the user\'s chatrooms uses them.',
      tags,
      params: ChatroomParamsSchema,
      response: {
        204: described('Deleted', NoContentSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND'),
      },
    },
  }, async (request, reply) => {
    await chatrooms.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
