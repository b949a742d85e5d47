import { describe, expect, it } from 'vitest';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { activeTraceId, currentTraceCarrier, loadConfig, tracingSettingsFromEnv } from '../../src/index.js';
import { preloadTracing } from '../../src/telemetry/preload.js';

describe('tracing settings from the OTEL_* variables', () => {
  const settings = (env: Record<string, string>) => tracingSettingsFromEnv(env, 'gemini-chat-api');

  it('is off by default, with none, or when the SDK is disabled', () => {
    expect(settings({})).toBeUndefined();
    expect(settings({ OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(settings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
    expect(settings({ OTEL_TRACES_EXPORTER: 'console', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });

  it('is on with an exporter, or with an OTLP endpoint alone; OTEL_SERVICE_NAME names the process', () => {
    const all = { parentBased: true, ratio: 1 };
    expect(settings({ OTEL_TRACES_EXPORTER: 'console' })).toEqual({ exporter: 'console', serviceName: 'gemini-chat-api', sampler: all });
    expect(settings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'api-eu' })).toEqual({ exporter: 'otlp', serviceName: 'api-eu', sampler: all });
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ exporter: 'otlp', serviceName: 'gemini-chat-api', sampler: all });
    expect(settings({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' })).toEqual({
      exporter: 'otlp',
      serviceName: 'gemini-chat-api',
      sampler: { parentBased: true, ratio: 0.1 },
    });
  });

  it('is in the config, which refuses an unknown exporter', () => {
    expect(loadConfig({}).tracing).toEqual({ enabled: false, exporter: 'none', serviceName: '' });
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'console' }).tracing).toEqual({
      enabled: true,
      exporter: 'console',
      serviceName: '',
      sampler: { parentBased: true, ratio: 1 },
    });
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(/OTEL_TRACES_EXPORTER/);
  });
});

describe('tracing off', () => {
  it('starts nothing: no tracer provider, no context carried to jobs, no trace id to quote', async () => {
    await preloadTracing('gemini-chat-api');
    const provider = trace.getTracerProvider() as ProxyTracerProvider;
    // The API's placeholder still delegates to its no-op provider: no SDK was registered.
    expect(provider.getDelegate().constructor.name).toBe('NoopTracerProvider');
    trace.getTracer('test').startActiveSpan('unrecorded', (span) => {
      expect(span.isRecording()).toBe(false);
      expect(currentTraceCarrier()).toBeUndefined();
      expect(activeTraceId()).toBeUndefined();
      span.end();
    });
  });
});
