import { ROOT_CONTEXT, context, isSpanContextValid, propagation, trace, type Context } from '@opentelemetry/api';

/**
 * Trace context carried across the queue: the W3C `traceparent`/`tracestate` of the span that enqueued a job.
 * With tracing off the API's propagator is a no-op, so nothing is carried and nothing is read.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/**
 * The active span's W3C headers. With tracing on but no span (a request the sampler dropped at the door), an empty
 * carrier: the job is then not traced either, rather than starting a trace of its own. Undefined with tracing off
 * (the global propagator is a no-op and injects no field).
 */
export function currentTraceCarrier(): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  if (carrier.traceparent) return carrier;
  return propagation.fields().includes('traceparent') ? {} : undefined;
}

/** True when a job was enqueued, with tracing on, outside any sampled trace: it is run without a span. */
export function enqueuedUntraced(carrier: TraceCarrier | undefined): boolean {
  return carrier !== undefined && !carrier.traceparent;
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
