import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  AppError,
  activeTraceId,
  dependencyOf,
  ERROR_CODES,
  isErrorCode,
  type ErrorCode,
  type FieldError,
  type QuotaState,
} from '@gemini-chat/shared';
import { rateLimitHeaders } from '../routes/rate-limit-headers.js';
import type { Problem } from '../schemas/common.schemas.js';
import { problemTypeOf } from '../lib/problem-type.js';
import { StripeRequestError, translateStripeError } from '../lib/stripe-client.js';

// The single error handler: every error leaves as an RFC 9457 problem; 5xx never leak internals.

const RETRY_AFTER_ON_OUTAGE_SECONDS = 5;

type ProblemExtra = { errors?: FieldError[]; retryAfterSeconds?: number; fields?: Record<string, unknown> };

/** The problem document itself: shared by Fastify replies and the raw-socket answers of clientErrorHandler. */
function problemBody(status: number, code: ErrorCode, detail: string, requestId: string, extra: ProblemExtra = {}): Problem {
  const traceId = activeTraceId();
  return {
    type: problemTypeOf(code),
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    requestId,
    // The request's trace, when tracing is on: what an operator looks up next to the requestId.
    ...(traceId !== undefined ? { traceId } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
    ...(extra.fields ?? {}),
    ...(extra.retryAfterSeconds !== undefined ? { retryAfterSeconds: extra.retryAfterSeconds } : {}),
  };
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  detail: string,
  extra: ProblemExtra & { quota?: QuotaState } = {},
): FastifyReply {
  // The type already allows only catalogued codes; this catches a cast or a code built at run time, which the
  // spec (and so every client) would not know. Under test it is a 500, so the test that provoked it fails.
  if (!isErrorCode(code) || ERROR_CODES[code].status !== status) {
    request.log.error({ code, status }, 'problem code or status not as catalogued');
    if (!isErrorCode(code) && request.server.strictProblemCodes) {
      return sendProblem(request, reply, 500, 'INTERNAL_ERROR', `The code ${String(code)} is not in the error catalog.`);
    }
  }
  const body = problemBody(status, code, detail, String(request.id), extra);
  // The onRequest hook normally set it already; framework errors (below) are answered before any hook runs.
  reply.header('x-request-id', body.requestId);
  if (extra.quota) reply.headers(rateLimitHeaders(extra.quota));
  if (extra.retryAfterSeconds !== undefined) reply.header('retry-after', String(extra.retryAfterSeconds));
  return reply.code(status).type('application/problem+json').serializer(JSON.stringify).send(body);
}

/**
 * Fastify's `frameworkErrors` option: errors its router raises before a route is chosen, so before any hook or
 * the error handler below. Without it they leave as Fastify's own `{error, code, message, statusCode}` JSON.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    sendProblem(request, reply, 400, 'BAD_REQUEST', 'The URL path is not valid percent-encoded UTF-8.');
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH' && /^\/s\/[^/]*$/.test(request.url)) {
    // A public share link answers every id it does not know alike (malformed ones included), so an over-long one
    // is "not found" too, never a validation error.
    reply.header('cache-control', 'no-store');
    sendProblem(request, reply, 404, 'SHARE_NOT_FOUND', 'Share not found.');
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    // A path parameter over the router's limit (Fastify's default, 100 characters; every id is a 36-character
    // UUID). Answered exactly as a malformed id of legal length is, by the route's params validation: 400
    // VALIDATION_FAILED, which every route with a path parameter declares. Not Fastify's 414, which no route
    // declares and clients would have to handle apart; not 404 either, which would tell a client that sent
    // garbage something different from what a 99-character garbage id gets.
    const errors: FieldError[] = [{ in: 'params', field: '', message: 'must NOT have more than 100 characters' }];
    sendProblem(request, reply, 400, 'VALIDATION_FAILED', 'The request is invalid: params must NOT have more than 100 characters.', { errors });
  } else {
    // FST_ERR_ASYNC_CONSTRAINT: our routes have no async constraints, so this is a bug of ours.
    request.log.error({ err: error }, 'unhandled framework error');
    sendProblem(request, reply, 500, 'INTERNAL_ERROR', 'Something went wrong on our side. Quote the requestId when reporting it.');
  }
}

/** What Node's HTTP parser rejects, by error code, as Node's own default answers them (anything else is 400). */
const CLIENT_ERRORS: Record<string, [status: number, code: ErrorCode, detail: string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'The request line and headers are over 16 kB together.'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'PAYLOAD_TOO_LARGE', 'The chunk extensions of the body are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'The request did not arrive in time.'],
};
const NOT_HTTP: [number, ErrorCode, string] = [400, 'BAD_REQUEST', 'The request is not valid HTTP/1.1 (e.g. a malformed request line or header).'];

/**
 * Fastify's `clientErrorHandler` option (`this` is the Fastify instance): a request Node's HTTP parser rejects
 * never becomes a Fastify request, so nothing else can answer it. Write the problem on the raw socket and close
 * the connection, as Node's default does with its bodiless 4xx: the byte stream can no longer be parsed, so it
 * cannot carry another request.
 */
export function clientErrorHandler(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return; // the client is gone: nobody to answer
  const [status, code, detail] = CLIENT_ERRORS[error.code] ?? NOT_HTTP;
  // No request was parsed, so no X-Request-Id can be echoed: mint one, and log it so a report quoting it is found.
  const requestId = randomUUID();
  this.log.info({ err: error, requestId, status }, 'request rejected by the HTTP parser');
  // Like Node's default, answer only if no response to an earlier request on this connection has started:
  // bytes written now would land inside it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(problemBody(status, code, detail, requestId));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/problem+json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
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

declare module 'fastify' {
  interface FastifyInstance {
    /** Answer an uncatalogued problem code as a 500 rather than only logging it (set under test). */
    strictProblemCodes: boolean;
  }
}

export const errorsPlugin = fp(async (app: FastifyInstance, opts: { strictCodes?: boolean }) => {
  app.decorate('strictProblemCodes', opts.strictCodes === true);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, 404, 'ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}.`),
  );

  app.setErrorHandler((thrown: FastifyError, request, reply) => {
    // A Stripe error that no service translated: its statusCode and message are Stripe's answer to us (a 401 for
    // our key, "No such price: ..."), never ours to the client.
    const error = (translateStripeError(thrown) ?? thrown) as FastifyError;
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
    if (error instanceof StripeRequestError) {
      request.log.error({ err: error }, 'stripe refused a request');
      return sendProblem(request, reply, 500, 'INTERNAL_ERROR', 'Something went wrong on our side. Quote the requestId when reporting it.');
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

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};
