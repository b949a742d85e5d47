// Tracing for a test file, started as the real preload does (module hook, SDK, instrumentations) but keeping the
// spans in memory. A test file imports this FIRST, before anything that loads pg or ioredis.
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTracing } from '@gemini-chat/shared/telemetry';

export const spans = new InMemorySpanExporter();

await startTracing({ exporter: 'console', serviceName: 'gemini-chat-test' }, { spanProcessors: [new SimpleSpanProcessor(spans)] });
