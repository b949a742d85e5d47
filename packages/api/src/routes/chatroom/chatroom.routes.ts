import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ChatroomService } from '../../services/chatroom.service.js';
import { bodyProblems, NoContentSchema, PageQuerySchema, problems, protectedProblems } from '../../schemas/common.schemas.js';
import {
  ChatroomDetailSchema,
  ChatroomListSchema,
  ChatroomParamsSchema,
  ChatroomSchema,
  CreateChatroomBodySchema,
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
    schema: {
      operationId: 'createChatroom',
      summary: 'Create a chatroom',
      tags,
      body: CreateChatroomBodySchema,
      response: { 201: ChatroomSchema, ...protectedProblems, ...bodyProblems },
    },
  }, async (request, reply) => reply.code(201).send(await chatrooms.create(request.auth.userId, request.body)));

  app.get('/chatroom', {
    schema: {
      operationId: 'listChatrooms',
      summary: 'The user\'s chatrooms, newest activity first',
      description: 'Cached per user (invalidated by every change). Send If-None-Match with the last ETag to get 304.',
      tags,
      querystring: PageQuerySchema,
      headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()) }),
      response: { 200: ChatroomListSchema, 304: notModified, ...protectedProblems },
    },
  }, async (request, reply) => {
    const page = await chatrooms.list(request.auth.userId, request.query.limit ?? 20, request.query.cursor);
    reply.header('etag', page.etag).header('cache-control', 'private, no-cache');
    if (matchesEtag(request.headers['if-none-match'], page.etag)) return reply.code(304).send(null);
    // The cached body is already the exact JSON; sending the string skips re-serialising it.
    return reply.type('application/json; charset=utf-8').send(page.body as never);
  });

  app.get('/chatroom/:id', {
    schema: {
      operationId: 'getChatroom',
      summary: 'One chatroom with its newest messages',
      tags,
      params: ChatroomParamsSchema,
      response: { 200: ChatroomDetailSchema, ...protectedProblems, ...problems(404) },
    },
  }, async (request) => chatrooms.get(request.auth.userId, request.params.id));

  app.patch('/chatroom/:id', {
    schema: {
      operationId: 'updateChatroom',
      summary: 'Rename a chatroom or change its system prompt (null clears it)',
      tags,
      params: ChatroomParamsSchema,
      body: UpdateChatroomBodySchema,
      response: { 200: ChatroomSchema, ...protectedProblems, ...bodyProblems, ...problems(404) },
    },
  }, async (request) => chatrooms.update(request.auth.userId, request.params.id, request.body));

  app.delete('/chatroom/:id', {
    schema: {
      operationId: 'deleteChatroom',
      summary: 'Delete a chatroom and its messages',
      tags,
      params: ChatroomParamsSchema,
      response: { 204: NoContentSchema, ...protectedProblems, ...problems(404) },
    },
  }, async (request, reply) => {
    await chatrooms.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
