import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import { shouldTraceIncoming, type SamplerSettings } from '@gemini-chat/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

// A no-op until a preload registers the SDK; this plugin is registered only when tracing is on.
const tracer = trace.getTracer('gemini-chat-api');

// Routes that are polled, not used: a span for each scrape would only drown the traces of real requests.
const UNTRACED_PATHS = new Set(['/health', '/metrics']);

const SPAN = Symbol('tracing.span');
type Traced = FastifyRequest & { [SPAN]?: Span };

/**
 * HTTP server spans from Fastify's own hooks, sampled at the door. The sampling decision is taken first, from the
 * request's `traceparent` and the configured ratio (shouldTraceIncoming); a request it drops meets no OpenTelemetry
 * code at all. A kept request gets a SERVER span named after its route (`GET /chatroom/:id`), child of the caller's
 * trace when it sent one, tagged with the request id; the rest of its lifecycle (authentication, the handler, the
 * error handler, the reply) runs in that span's context, so its Postgres, Redis and fetch spans and the jobs it
 * enqueues belong to the trace. The span ends when the response is done (or the connection closes, for streams).
 */
export const tracingPlugin = fp(async (app: FastifyInstance, opts: { sampler: SamplerSettings }) => {
  app.addHook('onRequest', (request: Traced, reply, done) => {
    if (UNTRACED_PATHS.has(request.url.split('?')[0] ?? '') || !shouldTraceIncoming(request.headers.traceparent, opts.sampler)) {
      done();
      return;
    }
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0] ?? '',
          ...(route ? { 'http.route': route } : {}),
          'app.request_id': String(request.id),
          ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    request[SPAN] = span;
    const active: Context = trace.setSpan(parent, span);
    // The body arrives through the request's events and the reply ends through the response's: bound, so what
    // they trigger (parsing, then the handler; the onResponse logging) stays in the span's context.
    context.bind(active, request.raw);
    context.bind(active, reply.raw);
    reply.raw.once('close', () => {
      const status = reply.raw.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(active, done);
  });

  app.addHook('onError', async (request: Traced, _reply, error) => {
    request[SPAN]?.recordException(error);
  });
});
