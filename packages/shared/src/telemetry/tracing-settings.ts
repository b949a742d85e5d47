/**
 * Whether this process traces, from the standard OpenTelemetry variables alone. Off unless an exporter is asked
 * for: OTEL_TRACES_EXPORTER=otlp|console, or an OTLP endpoint (which implies otlp). OTEL_SDK_DISABLED=true wins.
 * Pure (no OpenTelemetry import), so the preload can decide before loading the SDK at all.
 */
import { samplerFromEnv, type SamplerSettings } from './sampling.js';

export type TraceExporterKind = 'otlp' | 'console';

export interface TracingSettings {
  exporter: TraceExporterKind;
  serviceName: string;
  /** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG; every trace kept when left out. */
  sampler?: SamplerSettings;
}

export function tracingSettingsFromEnv(env: Record<string, string | undefined>, defaultServiceName: string): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  // The spec allows a list; the first exporter named is used (one per process is all this app needs).
  const named = env.OTEL_TRACES_EXPORTER?.split(',')[0]?.trim().toLowerCase();
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporter: TraceExporterKind | undefined =
    named === 'otlp' || named === 'console' ? named : !named && endpoint ? 'otlp' : undefined;
  if (!exporter) return undefined;
  return {
    exporter,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName,
    sampler: samplerFromEnv(env.OTEL_TRACES_SAMPLER, env.OTEL_TRACES_SAMPLER_ARG),
  };
}
