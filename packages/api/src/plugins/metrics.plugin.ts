import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Queue } from 'bullmq';

/** Prometheus metrics of one API instance; a registry per app so tests can build several apps in one process. */
export function createApiMetrics(queue: Queue) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route template, method and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const quotaRejections = new Counter({
    name: 'quota_rejections_total',
    help: 'Prompts refused because the daily quota was used up.',
    registers: [registry],
  });
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in the reply queue by state (read from Redis at scrape time).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      try {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      } catch {
        // Redis down: leave the last values; /ready reports the outage.
      }
    },
  });
  // Each open stream holds a connection and a listener until its reply ends or its client leaves; a count that
  // only grows is a leak.
  const replyStreamsOpen = new Gauge({
    name: 'reply_streams_open',
    help: 'Reply streams (Server-Sent Events) this instance is serving, from the request to the end of its handling.',
    registers: [registry],
  });
  return { registry, httpDuration, quotaRejections, replyStreamsOpen };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export const metricsPlugin = fp(async (app: FastifyInstance, { metrics }: { metrics: ApiMetrics }) => {
  // Callback form, not async: on every request, a promise and a microtask turn less.
  app.addHook('onResponse', (request, reply, done) => {
    // The route template (not the URL) keeps label cardinality bounded; unknown routes share one label.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
});
