import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span } from '@opentelemetry/api';
import { shouldTraceIncoming, type SamplerSettings } from '@gemini-chat/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

// A no-op until a preload registers the SDK; this plugin is registered only when tracing is on.
const tracer = trace.getTracer('gemini-chat-api');

// Routes that are polled, not used: a span for each scrape would only drown the traces of real requests.
const UNTRACED_ROUTES = new Set(['/health', '/metrics']);

const SPAN = Symbol('tracing.span');
type Traced = FastifyRequest & { [SPAN]?: Span };

/**
 * HTTP server spans from Fastify's own hooks, sampled at the door. The sampling decision is taken first, from the
 * request's `traceparent` and the configured ratio (shouldTraceIncoming); a request it drops meets no OpenTelemetry
 * code at all: no span, no context entered. A kept request gets a SERVER span named after its
 * route (`GET /chatroom/:id`), child of the caller's trace when it sent one, tagged with the request id; the rest of
 * its lifecycle (authentication, the handler, the error handler, the reply) runs in that span's context, so its
 * Postgres, Redis and fetch spans, its log lines and the jobs it enqueues belong to the trace. The span ends when
 * the response is done (or the connection closes, for streams).
 */
export const tracingPlugin = fp(async (app: FastifyInstance, opts: { sampler: SamplerSettings }) => {
  app.addHook('onRequest', (request: Traced, reply, done) => {
    const traceparent = request.headers.traceparent;
    const route = request.routeOptions.url;
    if (!shouldTraceIncoming(traceparent, opts.sampler) || (route !== undefined && UNTRACED_ROUTES.has(route))) {
      done();
      return;
    }
    const parent = traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, request.headers);
    const query = request.url.indexOf('?');
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': query === -1 ? request.url : request.url.slice(0, query),
          ...(route ? { 'http.route': route } : {}),
          'app.request_id': String(request.id),
          ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
        },
      },
      parent,
    );
    request[SPAN] = span;
    const active: Context = trace.setSpan(parent, span);
    // No emitter is bound (context.bind patches every listener method of the emitter, a cost per sampled request
    // that nothing needs): Fastify runs the handler after a body in the async context the parsing started in (an
    // AsyncResource of its own), and the response's 'finish' (the onResponse hooks, the "request completed" line)
    // follows writes made in the span's context, whose async resources carry it. The tests check both.
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
