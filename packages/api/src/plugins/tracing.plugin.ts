import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Names each HTTP server span after its route (`GET /chatroom/:id`, not the raw URL) and tags it with the
 * request id, so traces group by route and a requestId quoted by a client leads to its trace. The span itself
 * comes from the HTTP instrumentation; registered only when tracing is on.
 */
export const tracingPlugin = fp(async (app: FastifyInstance) => {
  app.addHook('onRequest', async (request) => {
    const span = trace.getActiveSpan();
    if (!span) return;
    const route = request.routeOptions.url;
    if (route) {
      span.updateName(`${request.method} ${route}`);
      span.setAttribute('http.route', route);
    }
    span.setAttribute('app.request_id', String(request.id));
  });
});
