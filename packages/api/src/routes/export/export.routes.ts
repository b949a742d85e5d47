import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import contentDisposition from 'content-disposition';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { AppError, type FieldError } from '@gemini-chat/shared';
import { sanitizeFileName } from '../../lib/file-inspection.js';
import { toMarkdown, type ExportService } from '../../services/export.service.js';
import { ChatroomParamsSchema } from '../../schemas/chatroom.schemas.js';
import { described, errorCodes, JSON_BODY_CODES, TOKEN_OR_KEY_CODES } from '../../schemas/common.schemas.js';
import {
  ChatGptConversationsSchema,
  ChatroomExportSchema,
  EXPORT_FORMAT,
  ExportQuerySchema,
  ImportBodySchema,
  ImportHeadersSchema,
  ImportResultSchema,
} from '../../schemas/export.schemas.js';

const asciiFallback = (name: string): string => name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '_');

/** A download name from a title: no path separators or characters that file systems refuse. */
function downloadName(title: string, extension: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const base = title.replace(/[/\\:*?"<>|\u0000-\u001f]+/g, ' ').replace(/\s+/g, ' ').trim().replace(/^\.+/, '') || 'chatroom';
  return sanitizeFileName(`${base.slice(0, 100)}.${extension}`);
}

const exportFile = Compile(ChatroomExportSchema);
const chatGptFile = Compile(ChatGptConversationsSchema);

/**
 * The import body is one of two formats. Validating the union at once would answer every mistake with the errors
 * of both ("must be array" for an export with one bad field), so the format is told apart first, by its shape,
 * and the body checked against that format alone. The route's own union schema then only confirms it.
 */
function checkImportBody(body: unknown): void {
  const isExport = !Array.isArray(body) && typeof body === 'object' && body !== null && (body as { format?: unknown }).format === EXPORT_FORMAT;
  if (!isExport && !Array.isArray(body)) {
    throw new AppError(
      400,
      'IMPORT_FORMAT_UNKNOWN',
      `Send a chatroom export (an object with "format": "${EXPORT_FORMAT}") or a ChatGPT conversations.json (an array of conversations).`,
      { errors: [{ in: 'body', field: '', message: 'is neither a chatroom export nor a ChatGPT conversations.json' }] },
    );
  }
  const check = isExport ? exportFile : chatGptFile;
  if (check.Check(body)) return;
  // "schema is false" repeats, at the field, what the additionalProperties error says about it.
  const errors: FieldError[] = [...check.Errors(body)].filter((e) => e.keyword !== 'boolean').slice(0, 20).map((e) => {
    const segments = e.instancePath.split('/').filter(Boolean);
    const params = e.params as Record<string, unknown>;
    let message = e.message;
    if (e.keyword === 'required' && Array.isArray(params.requiredProperties)) {
      segments.push(String(params.requiredProperties[0]));
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) {
      segments.push(String(params.additionalProperties[0]));
      message = 'is not a known field';
    }
    return { in: 'body', field: segments.join('.'), message };
  });
  const what = isExport ? 'chatroom export' : 'ChatGPT conversations.json';
  const detail = errors.map((e) => `body${e.field ? `.${e.field}` : ''} ${e.message}`).join('; ');
  throw new AppError(400, 'VALIDATION_FAILED', `The ${what} is invalid: ${detail}.`, { errors });
}

export const exportRoutes: FastifyPluginAsyncTypebox<{ exports: ExportService; importMaxBytes: number }> = async (app, { exports, importMaxBytes }) => {
  const tags = ['Chatrooms'];

  app.get('/chatroom/:id/export', {
    config: { apiKey: true },
    schema: {
      operationId: 'exportChatroom',
      summary: 'Download a chatroom: every branch as JSON, or the current branch as Markdown',
      description:
        '`format=json` (the default): the `gemini-chat.chatroom` format, version 1 (schema `ChatroomExport`, described in ' +
        'docs/export-format.md): the chatroom and every message of every branch, with attachment metadata (never the ' +
        'files themselves); POST /chatroom/import reads it back. `format=markdown`: the current branch to read, one heading ' +
        'per turn. Sent as a download (`Content-Disposition: attachment`, named after the title).',
      tags,
      params: ChatroomParamsSchema,
      querystring: ExportQuerySchema,
      response: {
        200: {
          description: 'The export.',
          content: {
            'application/json': { schema: ChatroomExportSchema },
            'text/markdown': { schema: Type.String({ description: 'The current branch in Markdown.' }) },
          },
        },
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'CHATROOM_NOT_FOUND'),
      },
    },
  }, async (request, reply) => {
    const format = request.query.format ?? 'json';
    const file = await exports.exportChatroom(request.auth.userId, request.params.id);
    const name = downloadName(file.chatroom.title, format === 'json' ? 'json' : 'md');
    reply
      .header('content-disposition', contentDisposition(name, { type: 'attachment', fallback: asciiFallback(name) }))
      .header('cache-control', 'private, no-store')
      .header('x-content-type-options', 'nosniff');
    if (format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(toMarkdown(file));
    return reply.type('application/json; charset=utf-8').send(file);
  });

  app.post('/chatroom/import', {
    config: { apiKey: true },
    bodyLimit: importMaxBytes,
    preValidation: async (request) => checkImportBody(request.body),
    schema: {
      operationId: 'importChatrooms',
      summary: 'Create chatrooms from a chatroom export or a ChatGPT conversations.json',
      description:
        'The body is a chatroom export (GET /chatroom/{id}/export) or the `conversations.json` of a ChatGPT data export. ' +
        'Every branch becomes a branch, the current one stays current; messages keep their times and are finished ' +
        'messages (not charged to the quota). From ChatGPT, user and assistant text is imported; system, tool and hidden ' +
        'messages and non-text parts (images, code, browsing) are left out and listed in `skipped`. Attachments are ' +
        'metadata: a file still among the caller\'s is attached again, any other is listed in `skipped`. All chatrooms ' +
        'are created, or none: a malformed file is 400 (VALIDATION_FAILED, IMPORT_INVALID or IMPORT_FORMAT_UNKNOWN), a ' +
        'body over IMPORT_MAX_BYTES 413. With `Idempotency-Key`, a retry returns the first result.',
      tags,
      headers: ImportHeadersSchema,
      body: ImportBodySchema,
      response: {
        201: described('The chatrooms created, and what was left out', ImportResultSchema),
        ...errorCodes(
          TOKEN_OR_KEY_CODES,
          JSON_BODY_CODES,
          'IMPORT_FORMAT_UNKNOWN',
          'IMPORT_INVALID',
          'IDEMPOTENCY_KEY_IN_USE',
          'IDEMPOTENCY_KEY_REUSED',
        ),
      },
    },
  }, async (request, reply) => {
    const idempotencyKey = request.headers['idempotency-key'];
    const outcome = await exports.importChatrooms(request.auth, request.body, idempotencyKey ? { idempotencyKey } : {});
    if (outcome.replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(201).send(outcome.result);
  });
};
