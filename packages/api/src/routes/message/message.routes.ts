import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { rateLimitHeaders, type MessageService } from '../../services/message.service.js';
import { PageQuerySchema, problems, protectedProblems } from '../common.schemas.js';
import { ChatroomParamsSchema, MessageSchema } from '../chatroom/chatroom.schemas.js';
import {
  MessageListSchema,
  MessageParamsSchema,
  SendMessageBodySchema,
  SendMessageHeadersSchema,
  SendMessageResultSchema,
} from './message.schemas.js';

/** `Prefer: wait=N` (RFC 7240), capped; 0 when absent. */
export function preferredWait(prefer: string | undefined, max: number): number {
  const match = prefer?.match(/(?:^|[\s,;])wait=(\d{1,6})(?=$|[\s,;])/i);
  return match ? Math.min(Number(match[1]), max) : 0;
}

export const messageRoutes: FastifyPluginAsyncTypebox<{ messages: MessageService; preferWaitMaxSeconds: number }> = async (app, opts) => {
  const { messages, preferWaitMaxSeconds } = opts;
  const tags = ['Messages'];

  app.post('/chatroom/:id/message', {
    schema: {
      operationId: 'sendMessage',
      summary: 'Send a prompt; the reply is generated asynchronously',
      description:
        'Stores the prompt and a queued reply, charges one unit of the daily quota and queues the generation. ' +
        '202 with both messages (poll `links.reply`, or send `Prefer: wait=N` to get the finished reply in this response: ' +
        '200 when it finished in time). 409 CHATROOM_BUSY while a reply in the chatroom is pending; 429 QUOTA_EXCEEDED ' +
        'with Retry-After when the day\'s quota is used up. RateLimit-* headers describe the quota.',
      tags,
      params: ChatroomParamsSchema,
      headers: SendMessageHeadersSchema,
      body: SendMessageBodySchema,
      response: { 200: SendMessageResultSchema, 202: SendMessageResultSchema, ...protectedProblems, ...problems(404, 409, 422) },
    },
  }, async (request, reply) => {
    const wait = preferredWait(request.headers.prefer, preferWaitMaxSeconds);
    const idempotencyKey = request.headers['idempotency-key'];
    const outcome = await messages.send(request.auth, request.params.id, request.body.content, {
      waitSeconds: wait,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    reply.headers(rateLimitHeaders(outcome.usage));
    if (outcome.kind === 'replayed') {
      reply.header('idempotent-replayed', 'true');
      return reply.code(outcome.status as 202).send(outcome.body);
    }
    if (wait > 0) reply.header('preference-applied', `wait=${wait}`);
    reply.header('location', outcome.result.links.reply);
    return reply.code(outcome.kind === 'finished' ? 200 : 202).send(outcome.result);
  });

  app.get('/chatroom/:id/messages', {
    schema: {
      operationId: 'listMessages',
      summary: 'A chatroom\'s messages, newest first',
      tags,
      params: ChatroomParamsSchema,
      querystring: PageQuerySchema,
      response: { 200: MessageListSchema, ...protectedProblems, ...problems(404) },
    },
  }, async (request) => messages.list(request.auth.userId, request.params.id, request.query.limit ?? 20, request.query.cursor));

  app.get('/chatroom/:id/messages/:messageId', {
    schema: {
      operationId: 'getMessage',
      summary: 'One message: poll a reply here until its status is final',
      tags,
      params: MessageParamsSchema,
      response: { 200: MessageSchema, ...protectedProblems, ...problems(404) },
    },
  }, async (request) => messages.get(request.auth.userId, request.params.id, request.params.messageId));

  app.get('/chatroom/:id/latest', {
    schema: {
      operationId: 'getLatestReply',
      summary: 'The chatroom\'s newest reply',
      description: '200 when it is finished (completed, failed or cancelled); 202 with Retry-After while it is queued or generating.',
      tags,
      params: ChatroomParamsSchema,
      response: {
        200: MessageSchema,
        202: MessageSchema,
        ...protectedProblems,
        ...problems(404),
      },
    },
  }, async (request, reply) => {
    const { message, pending } = await messages.latest(request.auth.userId, request.params.id);
    if (pending) return reply.code(202).header('retry-after', '1').send(message);
    return message;
  });
};
