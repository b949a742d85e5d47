import { createRequire } from 'node:module';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type { TracingSettings } from './tracing-settings.js';

export interface RunningTracing {
  /** Ends every span processor: exports what is still batched. */
  shutdown(): Promise<void>;
}

// The npm modules the instrumentations patch (pg loads pg-pool). http is a builtin Fastify requires, and fetch is
// traced through diagnostics channels: neither needs loading here.
const PATCHED_MODULES = ['pg', 'ioredis'];

// Routes that are polled, not used: a span for each scrape would only drown the traces of real requests.
const UNTRACED_PATHS = new Set(['/health', '/metrics']);

/**
 * Starts the SDK and the instrumentations (HTTP server, pg, ioredis, undici for fetch), before the app is
 * imported (see preload.ts). `spanProcessors` replaces the exporter chosen by the settings (tests collect spans in
 * memory).
 *
 * pg and ioredis are CommonJS packages, and Node hands every ESM `import` of one the same module.exports object as
 * `require` does. So they are patched here by requiring them once after the instrumentations are registered (the
 * instrumentations hook `require`): their classes' prototypes are patched in place, for every later import of
 * them, however it arrives (tsx, the esbuild bundle's bare imports, vitest's module runner). An ESM loader hook
 * (import-in-the-middle, the documented route for ESM apps) is not needed, and was not enough under vitest.
 */
export async function startTracing(settings: TracingSettings, options: { spanProcessors?: TraceBase.SpanProcessor[] } = {}): Promise<RunningTracing> {
  // Imported here, not at the top, so a process with tracing off never loads the SDK.
  const [{ NodeTracerProvider }, base, resources, { registerInstrumentations }, http, pg, ioredis, undici] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/instrumentation'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-undici'),
  ]);
  const spanProcessors = options.spanProcessors ?? [await exporterProcessor(settings, base)];
  const provider = new NodeTracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME as the SDK reads them, with this process's name by default.
    resource: resources
      .resourceFromAttributes({ 'service.name': settings.serviceName })
      .merge(resources.detectResources({ detectors: [resources.envDetector] })),
    // The sampler is the SDK's default reading of OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
    spanProcessors,
  });
  // W3C traceparent/tracestate (and baggage) as the propagators, AsyncLocalStorage as the context manager.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new http.HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
        // Outgoing calls are traced only as part of a request or job, never the background chatter of clients.
        requireParentforOutgoingSpans: true,
      }),
      // Queries and commands outside a request or job (pool checks, BullMQ's polling) would each be a trace.
      new pg.PgInstrumentation({ requireParentSpan: true }),
      new ioredis.IORedisInstrumentation({ requireParentSpan: true }),
      new undici.UndiciInstrumentation({ requireParentforSpans: true }),
    ],
  });
  const require = createRequire(import.meta.url);
  for (const name of PATCHED_MODULES) require(name);
  return { shutdown: () => provider.shutdown() };
}

async function exporterProcessor(settings: TracingSettings, base: typeof TraceBase): Promise<TraceBase.SpanProcessor> {
  if (settings.exporter === 'console') return new base.SimpleSpanProcessor(new base.ConsoleSpanExporter());
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  // OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS / _TIMEOUT and the OTEL_BSP_* batch settings are read by the SDK.
  return new base.BatchSpanProcessor(new OTLPTraceExporter());
}

