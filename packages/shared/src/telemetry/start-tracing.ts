import { createRequire } from 'node:module';
import { SpanKind, trace } from '@opentelemetry/api';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type { SamplerSettings } from './sampling.js';
import type { TracingSettings } from './tracing-settings.js';

export interface RunningTracing {
  /** Ends every span processor: exports what is still batched. */
  shutdown(): Promise<void>;
}

// The npm modules the instrumentations patch (pg loads pg-pool). http is a builtin Fastify requires, and fetch is
// traced through diagnostics channels: neither needs loading here.
const PATCHED_MODULES = ['pg', 'ioredis'];


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
  const sampler = settings.sampler ?? { parentBased: true, ratio: 1 };
  const provider = new NodeTracerProvider({
    // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME as the SDK reads them, with this process's name by default.
    resource: resources
      .resourceFromAttributes({ 'service.name': settings.serviceName })
      .merge(resources.detectResources({ detectors: [resources.envDetector] })),
    sampler: doorSampler(sampler, base),
    spanProcessors,
  });
  // W3C traceparent/tracestate (and baggage) as the propagators, AsyncLocalStorage as the context manager.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new http.HttpInstrumentation({
        // Server spans come from the API's own Fastify hooks (tracing.plugin.ts), which decide sampling first: this
        // instrumentation would enter a context and bind every request's emitters, sampled or not, and that alone
        // more than doubled the CPU of the fastest routes.
        disableIncomingRequestInstrumentation: true,
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

/**
 * The configured sampler (OTEL_TRACES_SAMPLER), with two rules around it. An incoming request's span exists only
 * when the API's tracing plugin kept the request at the door (shouldTraceIncoming), so it is sampled as it starts.
 * Only requests and jobs start traces: any other span without a parent (the Gemini call of a job run untraced) is
 * not recorded. Everything else follows the configured sampler, parent first when it is parent-based.
 */
function doorSampler(settings: SamplerSettings, base: typeof TraceBase): TraceBase.Sampler {
  const root =
    settings.ratio >= 1
      ? new base.AlwaysOnSampler()
      : settings.ratio <= 0
        ? new base.AlwaysOffSampler()
        : new base.TraceIdRatioBasedSampler(settings.ratio);
  const configured = settings.parentBased ? new base.ParentBasedSampler({ root }) : root;
  return {
    shouldSample: (context, traceId, spanName, spanKind, attributes, links) => {
      if (spanKind === SpanKind.SERVER) return { decision: base.SamplingDecision.RECORD_AND_SAMPLED };
      if (spanKind !== SpanKind.CONSUMER && !trace.getSpan(context)) return { decision: base.SamplingDecision.NOT_RECORD };
      return configured.shouldSample(context, traceId, spanName, spanKind, attributes, links);
    },
    toString: () => `DoorSampler{${configured.toString()}}`,
  };
}

async function exporterProcessor(settings: TracingSettings, base: typeof TraceBase): Promise<TraceBase.SpanProcessor> {
  if (settings.exporter === 'console') return new base.SimpleSpanProcessor(new base.ConsoleSpanExporter());
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  // OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS / _TIMEOUT and the OTEL_BSP_* batch settings are read by the SDK.
  return new base.BatchSpanProcessor(new OTLPTraceExporter());
}

