import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import contentDisposition from 'content-disposition';
import parseRange from 'range-parser';
import { Type } from 'typebox';
import { AppError, type ByteRange } from '@gemini-chat/shared';
import { fileTooLarge } from '../../lib/file-inspection.js';
import { clientBytes, multipartProblem, notMultipart } from '../../lib/multipart.js';
import type { FileService } from '../../services/file.service.js';
import { described, errorCodes, NoContentSchema, PageQuerySchema, TOKEN_OR_KEY_CODES } from '../../schemas/common.schemas.js';
import { FileContentHeadersSchema, FileListSchema, FileParamsSchema, FileSchema, UploadFileBodySchema } from '../../schemas/file.schemas.js';

/** Room for the multipart framing around the file (boundaries, part headers) when Content-Length is judged. */
const MULTIPART_OVERHEAD_BYTES = 16 * 1024;

/** The name in plain ASCII for clients that ignore filename* (accents dropped, anything else "_"). */
const asciiFallback = (name: string): string =>
  name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]/g, '_');

const binary = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
});

export const fileRoutes: FastifyPluginAsyncTypebox<{ files: FileService; maxBytes: number }> = async (app, { files, maxBytes }) => {
  const tags = ['Files'];
  // Registered here, so only this plugin's routes take multipart bodies. Bodies are read as streams by the route;
  // Fastify's body limit does not apply to them, the per-file cap does.
  await app.register(multipart, {
    limits: { files: 1, fileSize: maxBytes + 1, fields: 4, fieldSize: 1024, parts: 6, headerPairs: 16 },
    throwFileSizeLimit: false, // the upload counts the bytes itself and answers FILE_TOO_LARGE
  });

  app.post('/files', {
    config: { apiKey: true },
    schema: {
      operationId: 'uploadFile',
      summary: 'Upload a file to attach to prompts',
      description:
        'multipart/form-data with exactly one file part named `file`, streamed to storage. The type is detected from ' +
        'the bytes: images (PNG, JPEG, WebP, HEIC/HEIF), PDF, UTF-8 text (plain, Markdown, CSV), audio (MP3, WAV, OGG, ' +
        'FLAC, AAC); anything else 415 UNSUPPORTED_MEDIA_TYPE, bytes that contradict the part\'s Content-Type or the ' +
        'name\'s extension 415 FILE_TYPE_MISMATCH. Empty: 400 EMPTY_FILE. Over the per-file cap: 413 FILE_TOO_LARGE. A PDF ' +
        'over the page limit: 422 PDF_TOO_MANY_PAGES. Over the plan\'s storage: 409 STORAGE_QUOTA_EXCEEDED. A malformed ' +
        'body 400 MULTIPART_INVALID, no `file` part 400 FILE_PART_MISSING, a second file 400 TOO_MANY_FILES.',
      tags,
      consumes: ['multipart/form-data'],
      body: UploadFileBodySchema,
      response: {
        201: described('The stored file: attach its id to a prompt', FileSchema),
        ...errorCodes(
          TOKEN_OR_KEY_CODES,
          // A body sent as JSON is parsed (and may fail as JSON) before the route refuses it as not multipart.
          'INVALID_JSON',
          'PAYLOAD_TOO_LARGE',
          'UNSUPPORTED_MEDIA_TYPE',
          'FILE_TYPE_MISMATCH',
          'EMPTY_FILE',
          'FILE_TOO_LARGE',
          'PDF_TOO_MANY_PAGES',
          'STORAGE_QUOTA_EXCEEDED',
          'MULTIPART_INVALID',
          'FILE_PART_MISSING',
          'TOO_MANY_FILES',
        ),
      },
    },
    // The body is a stream the handler reads; there is nothing to validate before it runs.
    validatorCompiler: () => () => true,
    onRequest: async (request) => {
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length) && length > maxBytes + MULTIPART_OVERHEAD_BYTES) throw fileTooLarge(maxBytes);
    },
  }, async (request, reply) => {
    if (!request.isMultipart()) throw notMultipart();
    try {
      const parts = request.parts();
      let first;
      try {
        // Small text fields before the file are let through (limited in number and size); the file must be `file`.
        do first = await parts.next();
        while (!first.done && first.value.type === 'field');
      } catch (err) {
        throw multipartProblem(err);
      }
      if (first.done || first.value.type !== 'file' || first.value.fieldname !== 'file') {
        throw new AppError(400, 'FILE_PART_MISSING', 'Send the file as one multipart part named `file`.');
      }
      const part = first.value;
      const file = await files.upload(request.auth.userId, {
        filename: part.filename,
        declaredType: part.mimetype,
        bytes: clientBytes(part.file),
        async rest() {
          try {
            for (let next = await parts.next(); !next.done; next = await parts.next()) {
              if (next.value.type === 'file') throw new AppError(400, 'TOO_MANY_FILES', 'Send exactly one file per upload.');
            }
          } catch (err) {
            throw multipartProblem(err);
          }
        },
      });
      return reply.code(201).header('location', `/files/${file.id}`).send(file);
    } catch (err) {
      // Refused before the whole body arrived: close the connection rather than read the rest of it.
      if (!request.raw.readableEnded) reply.header('connection', 'close');
      throw err;
    }
  });

  app.get('/files', {
    config: { apiKey: true },
    schema: {
      operationId: 'listFiles',
      summary: 'The user\'s files, newest first',
      description: 'Pages of `limit` (default 20); pass `nextCursor` as `cursor` for the next page. Deleted files are not listed.',
      tags,
      querystring: PageQuerySchema,
      response: {
        200: described('A page of files', FileListSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'INVALID_CURSOR'),
      },
    },
  }, async (request) => files.list(request.auth.userId, request.query.limit ?? 20, request.query.cursor));

  app.get('/files/:id', {
    config: { apiKey: true },
    schema: {
      operationId: 'getFile',
      summary: 'A file\'s metadata',
      description: 'Name, detected type, size, sha256 (and pages for a PDF). Another user\'s file is 404 FILE_NOT_FOUND, as a missing one.',
      tags,
      params: FileParamsSchema,
      response: {
        200: described('The file\'s metadata', FileSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'FILE_NOT_FOUND'),
      },
    },
  }, async (request) => files.get(request.auth.userId, request.params.id));

  app.get('/files/:id/content', {
    config: { apiKey: true },
    schema: {
      operationId: 'getFileContent',
      summary: 'A file\'s bytes, as a download',
      description:
        'Served with the detected type, `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and a ' +
        'sandboxing Content-Security-Policy, so a browser never runs it. `Range: bytes=…` (one range) answers 206; an ' +
        'unsatisfiable range 416. The ETag is the file\'s sha256.',
      tags,
      params: FileParamsSchema,
      headers: FileContentHeadersSchema,
      response: {
        200: binary('The file.'),
        206: binary('The requested range (Content-Range says which).'),
        304: Type.Null({ description: 'Not modified: the file still matches If-None-Match.' }),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'FILE_NOT_FOUND', 'RANGE_NOT_SATISFIABLE'),
      },
    },
  }, async (request, reply) => {
    const { userId } = request.auth;
    const meta = await files.get(userId, request.params.id);
    const size = meta.sizeBytes;
    const etag = `"${meta.sha256}"`;
    reply
      .header('etag', etag)
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'private, no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .header('content-disposition', contentDisposition(meta.name, { type: 'attachment', fallback: asciiFallback(meta.name) }));
    const ifNoneMatch = request.headers['if-none-match'];
    if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*')) {
      return reply.code(304).send(null);
    }
    let range: ByteRange | undefined;
    if (request.headers.range) {
      const parsed = parseRange(size, request.headers.range, { combine: true });
      if (parsed === -1) {
        reply.header('content-range', `bytes */${size}`);
        throw new AppError(416, 'RANGE_NOT_SATISFIABLE', `The file has ${size} bytes; the range asked for lies outside them.`);
      }
      // A malformed header is ignored (RFC 9110), and several ranges are served whole rather than as multipart.
      if (parsed !== -2 && parsed.type === 'bytes' && parsed.length === 1) range = { start: parsed[0]!.start, end: parsed[0]!.end };
    }
    const { file, body } = await files.content(userId, request.params.id, range);
    reply.type(file.mime_type);
    if (range) {
      reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`).header('content-length', String(range.end - range.start + 1));
    } else {
      reply.header('content-length', String(size));
    }
    return reply.send(body as never); // a stream; the schema documents the bytes it carries
  });

  app.delete('/files/:id', {
    config: { apiKey: true },
    schema: {
      operationId: 'deleteFile',
      summary: 'Delete a file',
      description: 'Its bytes are removed and its storage given back; messages keep showing it, marked deleted. Deleting again answers 204.',
      tags,
      params: FileParamsSchema,
      response: {
        204: described('Deleted', NoContentSchema),
        ...errorCodes(TOKEN_OR_KEY_CODES, 'VALIDATION_FAILED', 'FILE_NOT_FOUND'),
      },
    },
  }, async (request, reply) => {
    await files.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
