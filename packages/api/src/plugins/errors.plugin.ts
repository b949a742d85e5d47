import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, dependencyOf, type FieldError } from '@gemini-chat/shared';
import type { Problem } from '../routes/common.schemas.js';

// The single error handler: every error leaves as an RFC 9457 problem; 5xx never leak internals.

const PROBLEM_TYPE_BASE = 'urn:gemini-chat:problem:';
const RETRY_AFTER_ON_OUTAGE_SECONDS = 5;

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extra: { errors?: FieldError[]; retryAfterSeconds?: number; fields?: Record<string, unknown>; headers?: Record<string, string> } = {},
): FastifyReply {
  const body: Problem = {
    type: `${PROBLEM_TYPE_BASE}${code.toLowerCase().replace(/_/g, '-')}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    requestId: String(request.id),
    ...(extra.errors ? { errors: extra.errors } : {}),
    ...(extra.fields ?? {}),
    ...(extra.retryAfterSeconds !== undefined ? { retryAfterSeconds: extra.retryAfterSeconds } : {}),
  };
  if (extra.headers) reply.headers(extra.headers);
  if (extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(extra.retryAfterSeconds));
  return reply.code(status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

interface AjvLikeError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function toFieldErrors(error: FastifyError): FieldError[] {
  // Fastify names the query part "querystring"; the contract says "query".
  const context = error.validationContext ?? 'body';
  const part = (context === 'querystring' ? 'query' : context) as FieldError['in'];
  return ((error.validation ?? []) as AjvLikeError[]).map((e) => {
    const segments = e.instancePath.split('/').filter(Boolean);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      segments.push(e.params.missingProperty);
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      segments.push(e.params.additionalProperty);
      message = 'is not a known field';
    }
    return { in: part, field: segments.join('.'), message };
  });
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      return sendProblem(request, reply, error.status, error.code, error.message, error.extra);
    }
    if (error.validation) {
      const errors = toFieldErrors(error);
      const detail = errors.map((e) => `${e.in}${e.field ? `.${e.field}` : ''} ${e.message}`).join('; ');
      return sendProblem(request, reply, 400, 'VALIDATION_FAILED', `The request is invalid: ${detail}.`, { errors });
    }
    // Postgres "data exception" (SQLSTATE class 22): a value the database cannot take, such as a NUL character in
    // text or a number or date out of range. That is the client's input, not our failure.
    if (typeof error.code === 'string' && /^22[0-9A-Z]{3}$/.test(error.code)) {
      return sendProblem(request, reply, 400, 'VALIDATION_FAILED', 'The request contains a value that cannot be stored (e.g. a NUL character or an out-of-range number).');
    }
    const dependency = dependencyOf(error);
    if (dependency) {
      request.log.warn({ err: error, dependency }, 'dependency unavailable');
      return sendProblem(request, reply, 503, 'SERVICE_UNAVAILABLE', 'A backing service is temporarily unavailable; retry shortly.', {
        retryAfterSeconds: RETRY_AFTER_ON_OUTAGE_SECONDS,
      });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, body too large, unsupported media type...): their messages are safe.
      const code = FASTIFY_CODES[error.code] ?? 'BAD_REQUEST';
      return sendProblem(request, reply, status, code, error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, 500, 'INTERNAL_ERROR', 'Something went wrong on our side. Quote the requestId when reporting it.');
  });
});

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};
