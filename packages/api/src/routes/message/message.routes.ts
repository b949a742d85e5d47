import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { MessageService, SendOutcome } from '../../services/message.service.js';
import { rateLimitHeaders } from '../rate-limit-headers.js';
import { inReplyStreamSpan } from '../../lib/reply-stream-span.js';
import type { ReplyStreamService, SseFrame } from '../../services/reply-stream.service.js';
import { described, errorCodes, JSON_BODY_CODES, TOKEN_OR_KEY_CODES } from '../../schemas/common.schemas.js';
import { ChatroomParamsSchema, MessageSchema } from '../../schemas/chatroom.schemas.js';
import {
  ListMessagesQuerySchema,
  MessageListSchema,
  MessageParamsSchema,
  RegenerateBodySchema,
  SendMessageBodySchema,
  SendMessageHeadersSchema,
  SendMessageResultSchema,
} from '../../schemas/message.schemas.js';

/** Headers and status of a send or regenerate: 202 accepted, 200 finished within `Prefer: wait`, or a replay. */
function sendOutcome(reply: FastifyReply, outcome: SendOutcome, wait: number) {
  reply.headers(rateLimitHeaders(outcome.usage));
  if (outcome.kind === 'replayed') {
    reply.header('idempotent-replayed', 'true');
    return reply.code(outcome.status).send(outcome.body);
  }
  if (wait > 0) reply.header('preference-applied', `wait=${wait}`);
  reply.header('location', outcome.result.links.reply);
  return reply.code(outcome.kind === 'finished' ? 200 : 202).send(outcome.result);
}

function formatFrame(frame: SseFrame): string {
  if ('heartbeat' in frame) return ': keep-alive\n\n';
  return `id: ${frame.id}\nevent: ${frame.event}\ndata: ${JSON.stringify(frame.data)}\n\n`;
}

/**
 * Writes a chunk of the stream, then, when the connection's buffer is full, waits for it to drain: a client that
 * reads slower than the reply is written must hold the stream back, not make the server buffer the whole reply
 * for it. Resolves at once when the stream is to stop (`stop`: the client has left, since nothing will drain any
 * more, or the server is closing).
 */
function write(raw: ServerResponse, chunk: string, stop: AbortSignal): Promise<void> {
  if (stop.aborted || raw.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      stop.removeEventListener('abort', done);
      resolve();
    };
    raw.on('drain', done);
    stop.addEventListener('abort', done);
  });
}

// How long a stream ended by the server closing may take to hand its last bytes to a client that reads slowly,
// before its connection is cut: the close must end well within its hard limit.
const SHUTDOWN_END_GRACE_MS = 1000;

/**
 * Ends a stream because the server is closing: says so in a comment line, ends the response cleanly (the client
 * sees the stream end, not a broken connection, and reconnects), then closes the connection, which would otherwise
 * stay open, idle and kept alive, and hold up the close.
 */
function endForShutdown(raw: ServerResponse): void {
  const socket = raw.socket;
  const cut = setTimeout(() => socket?.destroy(), SHUTDOWN_END_GRACE_MS);
  cut.unref();
  raw.end(': server closing, reconnect\n\n', () => {
    clearTimeout(cut);
    socket?.end();
  });
}

/** `Prefer: wait=N` (RFC 7240), capped; 0 when absent. */
export function preferredWait(prefer: string | undefined, max: number): number {
  const match = prefer?.match(/(?:^|[\s,;])wait=(\d{1,6})(?=$|[\s,;])/i);
  return match ? Math.min(Number(match[1]), max) : 0;
}

const SEND_CODES = [
  ...TOKEN_OR_KEY_CODES,
  ...JSON_BODY_CODES,
  'CHATROOM_NOT_FOUND',
  'MESSAGE_NOT_FOUND',
  'CHATROOM_BUSY',
  'QUOTA_EXCEEDED',
  'MODEL_UNKNOWN',
  'MODEL_NOT_ALLOWED',
  'IDEMPOTENCY_KEY_IN_USE',
  'IDEMPOTENCY_KEY_REUSED',
] as const;

export const messageRoutes: FastifyPluginAsyncTypebox<{
  messages: MessageService;
  replyStreams: ReplyStreamService;
  preferWaitMaxSeconds: number;
  /** Counts the streams being served (a gauge). */
  streamsOpen: { inc(): void; dec(): void };
  /** Aborted when the server starts closing. */
  closing: AbortSignal;
}> = async (app, opts) => {
  // A reply stream ends only with its reply, so a graceful close would wait for every open one until its hard limit
  // (a queued reply's may wait for ever). Once the server starts closing (`closing`), each stream ends at once
  // instead: the client reconnects with Last-Event-ID, through the load balancer, to an instance still serving. A
  // send held by `Prefer: wait` is answered at once too, with its reply as it is (202, still pending). Requests
  // arriving from then on are refused by Fastify itself (503 while closing, then no new connections at all).
  const { messages, replyStreams, preferWaitMaxSeconds, streamsOpen, closing } = opts;
  const tags = ['Messages'];

  app.post('/chatroom/:id/message', {
    config: { apiKey: true },
    schema: {
      operationId: 'sendMessage',
      summary: 'Send a prompt; the reply is generated asynchronously',
      description:
        'Stores the prompt and a queued reply, charges one unit of the daily quota and queues the generation. ' +
        'The prompt continues the branch at the chatroom\'s `currentMessageId`; with `parentId` (a reply of this chatroom, ' +
        'or null for a new first prompt) it starts a new branch there: to edit prompt P, send the new text with ' +
        '`parentId` = P.parentId. The new exchange becomes the current branch. A `parentId` that is a prompt is 400 ' +
        'PARENT_NOT_A_REPLY; one not in this chatroom is 404 MESSAGE_NOT_FOUND. ' +
        '202 with both messages (poll `links.reply`, or send `Prefer: wait=N` to get the finished reply in this response: ' +
        '200 when it finished in time). 409 CHATROOM_BUSY while a reply in the chatroom is pending; 429 QUOTA_EXCEEDED ' +
        'with Retry-After when the day\'s quota is used up. RateLimit-* headers describe the quota. `model` and `settings` ' +
        'override the chatroom\'s for this reply only; the reply records the model and settings it is generated with. ' +
        'A model the user\'s tier may not use (named here or by the chatroom) is 403 MODEL_NOT_ALLOWED, an id GET /models ' +
        'does not offer 400 MODEL_UNKNOWN. `attachments` sends files from POST /files with the prompt: one not the ' +
        'caller\'s (or deleted) is 404 FILE_NOT_FOUND, one the model cannot read 400 ATTACHMENT_NOT_SUPPORTED.',
      tags,
      params: ChatroomParamsSchema,
      headers: SendMessageHeadersSchema,
      body: SendMessageBodySchema,
      response: {
        200: described('The prompt and its finished reply (Prefer: wait, done in time)', SendMessageResultSchema),
        202: described('The prompt and its queued reply: poll links.reply or watch links.stream', SendMessageResultSchema),
        ...errorCodes(SEND_CODES, 'PARENT_NOT_A_REPLY', 'FILE_NOT_FOUND', 'ATTACHMENT_NOT_SUPPORTED'),
      },
    },
  }, async (request, reply) => {
    const wait = preferredWait(request.headers.prefer, preferWaitMaxSeconds);
    const idempotencyKey = request.headers['idempotency-key'];
    const { content, parentId, model, settings, attachments } = request.body;
    const input = {
      content,
      ...(parentId !== undefined ? { parentId } : {}),
      ...(attachments !== undefined ? { attachments } : {}),
      ...(model !== undefined ? { model } : {}),
      ...(settings !== undefined ? { settings } : {}),
    };
    const outcome = await messages.send(request.auth, request.params.id, input, {
      waitSeconds: wait,
      stopWaiting: closing,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    return sendOutcome(reply, outcome, wait);
  });

  app.get('/chatroom/:id/messages', {
    config: { apiKey: true },
    schema: {
      operationId: 'listMessages',
      summary: 'One branch of a chatroom, newest first',
      description:
        'The current branch (ending at the chatroom\'s `currentMessageId`), or with `leafId` the branch through another ' +
        'message, listed from the leaf up to the first prompt: each message is followed by its parent. Each carries ' +
        '`siblings` to draw "‹ 2 / 3 ›" and switch branch. 404 MESSAGE_NOT_FOUND for a `leafId` not in the chatroom.',
      tags,
      params: ChatroomParamsSchema,
      querystring: ListMessagesQuerySchema,
      response: {
        200: described('A page of the branch, newest first', MessageListSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'INVALID_CURSOR', 'CHATROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND'),
      },
    },
  }, async (request) => {
    const { limit = 20, cursor, leafId } = request.query;
    return messages.list(request.auth.userId, request.params.id, { limit, cursor, leafId });
  });

  app.get('/chatroom/:id/messages/:messageId', {
    config: { apiKey: true },
    schema: {
      operationId: 'getMessage',
      summary: 'One message: poll a reply here until its status is final',
      description:
        'A reply goes `queued` → `generating` → `completed`, `failed` (with `error.code`, one of a closed list) or ' +
        '`cancelled`; `content` grows while it is generated. Poll about once a second, or watch it live at ' +
        '`links.stream` of the send response.',
      tags,
      params: MessageParamsSchema,
      response: {
        200: described('The message', MessageSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND'),
      },
    },
  }, async (request) => messages.get(request.auth.userId, request.params.id, request.params.messageId));

  app.get('/chatroom/:id/latest', {
    config: { apiKey: true },
    schema: {
      operationId: 'getLatestReply',
      summary: 'The newest reply of the chatroom\'s current branch',
      description:
        '200 when it is finished (completed, failed or cancelled); 202 with Retry-After while it is queued or generating. ' +
        'A chatroom with no reply yet is 404 MESSAGE_NOT_FOUND.',
      tags,
      params: ChatroomParamsSchema,
      response: {
        200: described('The finished reply', MessageSchema),
        202: described('The reply, still queued or generating (Retry-After: 1)', MessageSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND'),
      },
    },
  }, async (request, reply) => {
    const { message, pending } = await messages.latest(request.auth.userId, request.params.id);
    if (pending) return reply.code(202).header('retry-after', '1').send(message);
    return message;
  });

  app.get('/chatroom/:id/messages/:messageId/stream', {
    config: { apiKey: true },
    schema: {
      operationId: 'streamReply',
      summary: 'Watch a reply as Server-Sent Events',
      description:
        '`text/event-stream`. Events: `delta` (`{ text }`, a chunk to append), `thought` (`{ text }`, a chunk of the ' +
        'model\'s thought summary, only for a reply sent with `showThoughts`: show it apart from the text), `reset` (a ' +
        'retry starts the reply over: clear the text and the thoughts), then exactly one of `done` or `error`, whose data ' +
        'is the final Message (with `thoughts` and `citations`); the stream then ends. ' +
        'Every event has an `id`: reconnect with `Last-Event-ID` (header or `lastEventId` query) to resume right after ' +
        'it, on any API instance, with no gap and no duplicate. A finished reply replays in full. A queued reply ' +
        'is waited for. Comment lines (`: keep-alive`) are sent while idle. Resuming after the final event is 204 ' +
        '(nothing more will come; an EventSource stops reconnecting).',
      tags,
      params: MessageParamsSchema,
      querystring: Type.Object(
        { lastEventId: Type.Optional(Type.String({ maxLength: 64, description: 'As the Last-Event-ID header, for clients that cannot set headers.' })) },
        { additionalProperties: false },
      ),
      headers: Type.Object({
        'last-event-id': Type.Optional(Type.String({ maxLength: 64, description: 'The `id` of the last event received: resume right after it.' })),
      }),
      response: {
        200: {
          description: 'The event stream.',
          content: { 'text/event-stream': { schema: Type.String({ description: 'Server-Sent Events' }) } },
        },
        204: Type.Null({ description: 'Last-Event-ID is the final event (or later): the client has the whole reply.' }),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND', 'NOT_A_REPLY'),
      },
    },
  }, async (request, reply) => {
    // The client may leave at any moment, even before this handler runs (while it is authenticated) or while the
    // stream opens, and 'close' is emitted only once: listen first, and stop every step once it has left, so
    // nothing goes on reading or listening for a client that is gone.
    const raw = reply.raw;
    const gone = new AbortController();
    // Whatever ends the stream early: the client leaving, or the server closing. (Not AbortSignal.any: each
    // request's listener on the app-long `closing` signal is removed when the request ends.)
    const stop = new AbortController();
    const onClose = () => {
      gone.abort();
      stop.abort();
    };
    const onClosing = () => stop.abort();
    raw.once('close', onClose);
    if (raw.destroyed) onClose();
    closing.addEventListener('abort', onClosing, { once: true });
    if (closing.aborted) onClosing();
    streamsOpen.inc();
    try {
      const lastEventId = request.headers['last-event-id'] ?? request.query.lastEventId;
      const stream = await replyStreams.open(request.auth.userId, request.params.id, request.params.messageId, lastEventId);
      // An empty 200 would make an EventSource reconnect for ever; 204 is the answer it stops on.
      if (stream.ended) return reply.code(204).send(null);
      // From here on the response is ours (or, when the client is gone already, there is no one to answer).
      reply.hijack();
      if (gone.signal.aborted) return;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      await inReplyStreamSpan(request.params.messageId, lastEventId, async (span) => {
        try {
          // Sent even when the server is closing already: it tells the client when to reconnect.
          await write(raw, 'retry: 2000\n\n', gone.signal);
          // Frames are pulled from the log only as the client takes them: beyond the batch in hand, what it has not
          // taken yet stays in the log, not in this process's memory.
          for await (const frame of stream.events(stop.signal)) {
            if (stop.signal.aborted) break;
            const text = formatFrame(frame);
            await write(raw, text, stop.signal);
            span.delivered(frame, Buffer.byteLength(text));
          }
        } catch (err) {
          span.failed(err);
          request.log.warn({ err }, 'reply stream ended by an error');
        } finally {
          if (closing.aborted && !gone.signal.aborted) endForShutdown(raw);
          else raw.end();
        }
      }, gone.signal);
    } finally {
      raw.off('close', onClose);
      closing.removeEventListener('abort', onClosing);
      streamsOpen.dec();
    }
  });

  app.post('/chatroom/:id/messages/:messageId/cancel', {
    config: { apiKey: true },
    schema: {
      operationId: 'cancelReply',
      summary: 'Stop a queued or generating reply',
      description: 'The reply keeps the text produced so far and becomes `cancelled`; its stream ends with `done`. ' +
        'Cancelling a cancelled reply is a no-op; a reply that already completed or failed is 409 REPLY_ALREADY_FINISHED, ' +
        'a prompt 400 NOT_A_REPLY. A cancelled reply is not refunded from the quota.',
      tags,
      params: MessageParamsSchema,
      response: {
        200: described('The cancelled reply', MessageSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND', 'MESSAGE_NOT_FOUND', 'NOT_A_REPLY', 'REPLY_ALREADY_FINISHED'),
      },
    },
  }, async (request) => messages.cancel(request.auth.userId, request.params.id, request.params.messageId));

  app.post('/chatroom/:id/messages/:messageId/regenerate', {
    config: { apiKey: true },
    schema: {
      operationId: 'regenerateReply',
      summary: 'Answer the same prompt again',
      description:
        'Creates a new reply to the prompt of any reply of the chatroom, as its sibling, and charges the quota like a ' +
        'new prompt; the new reply becomes the current branch. The model sees the path from the first prompt to that ' +
        'prompt, never the prompt\'s other replies. 409 CHATROOM_BUSY while a reply of the chatroom is pending; 400 ' +
        'NOT_A_REPLY for a prompt. Same response, headers, `Idempotency-Key` and `Prefer: wait` behaviour as sending a message. ' +
        'An optional body overrides `model` and `settings` for the new reply, as on a send (403 MODEL_NOT_ALLOWED, 400 MODEL_UNKNOWN).',
      tags,
      params: MessageParamsSchema,
      headers: SendMessageHeadersSchema,
      body: RegenerateBodySchema,
      'x-optional-body': true,
      response: {
        200: described('The prompt and its new, finished reply (Prefer: wait, done in time)', SendMessageResultSchema),
        202: described('The prompt and its new, queued reply', SendMessageResultSchema),
        ...errorCodes(SEND_CODES, 'NOT_A_REPLY'),
      },
    },
    // The body is optional: a regenerate without one (as before overrides existed) has no overrides.
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request, reply) => {
    const wait = preferredWait(request.headers.prefer, preferWaitMaxSeconds);
    const idempotencyKey = request.headers['idempotency-key'];
    const { model, settings } = request.body ?? {};
    const overrides = { ...(model !== undefined ? { model } : {}), ...(settings !== undefined ? { settings } : {}) };
    const outcome = await messages.regenerate(request.auth, request.params.id, request.params.messageId, overrides, {
      waitSeconds: wait,
      stopWaiting: closing,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    return sendOutcome(reply, outcome, wait);
  });
};
