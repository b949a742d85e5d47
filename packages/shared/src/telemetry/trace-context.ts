import { ROOT_CONTEXT, context, isSpanContextValid, propagation, trace, type Context } from '@opentelemetry/api';

/**
 * Trace context carried across the queue: the W3C `traceparent`/`tracestate` of the span that enqueued a job.
 * With tracing off the API's propagator is a no-op, so nothing is carried and nothing is read.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The active span's W3C headers, or undefined when there is no span (or tracing is off). */
export function currentTraceCarrier(): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : undefined;
}

/** The context a job's span starts in: child of the enqueuing span when the job carries one, else a new trace. */
export function contextFromCarrier(carrier: TraceCarrier | undefined): Context {
  return carrier?.traceparent ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
}

/** The trace id of the active span (sampled or not), to quote in logs and problem documents. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * pino's `mixin`: the active span's ids on every log line, under the names OpenTelemetry's pino instrumentation
 * uses, so a log backend links lines to traces. Only installed when tracing is on.
 */
export function traceLogFields(): Record<string, string> {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
