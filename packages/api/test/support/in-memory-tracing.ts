// Tracing for a test file, started as the real preload does (SDK, instrumentations) but keeping the spans in
// memory. A test file imports this FIRST, before anything that loads pg or ioredis.
import type { Context } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type Span, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '@gemini-chat/shared/telemetry';

export const spans = new InMemorySpanExporter();

/** Every recorded span started so far, finished or not (the exporter only sees finished ones). */
export const started: Array<{ name: string; parent: Context }> = [];
const counting: SpanProcessor = {
  onStart: (span: Span, parent: Context) => void started.push({ name: span.name, parent }),
  onEnd: () => {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

await startTracing({ exporter: 'console', serviceName: 'gemini-chat-test' }, { spanProcessors: [counting, new SimpleSpanProcessor(spans)] });
