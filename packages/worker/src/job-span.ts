import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { QUEUE_NAME, contextFromCarrier, enqueuedUntraced, type TracedPayload } from '@gemini-chat/shared';

// A tracer of the API's global provider: a no-op until a preload registers the SDK, so off costs nothing.
const tracer = trace.getTracer('gemini-chat-worker');

/**
 * Runs one job attempt in a span of its own: a child of the request that enqueued the job (its W3C context travels
 * in the payload), so one prompt is one trace from the HTTP request through the queue to Gemini. Named and
 * attributed as the messaging conventions' `process` span.
 */
export function inJobSpan<T>(
  job: { name: string; id?: string | undefined; attemptsMade: number; data: TracedPayload },
  run: () => Promise<T>,
): Promise<T> {
  // Enqueued by a request the sampler dropped: no trace of its own either (a job without a carrier, from a process
  // with tracing off or a schedule, starts one as the sampler decides).
  if (enqueuedUntraced(job.data.trace)) return run();
  return tracer.startActiveSpan(
    `process ${job.name}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'process',
        'messaging.destination.name': QUEUE_NAME,
        'messaging.message.id': job.id ?? '',
        'bullmq.job.name': job.name,
        'bullmq.job.attempt': job.attemptsMade + 1,
      },
    },
    contextFromCarrier(job.data.trace),
    async (span) => {
      try {
        return await run();
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}
