import { describe, expect, it } from 'vitest';
import { samplerFromEnv, shouldTraceIncoming } from '../../src/telemetry/sampling.js';

const SAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UNSAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

describe('sampling at the door', () => {
  it('reads OTEL_TRACES_SAMPLER and its argument as the SDK does', () => {
    expect(samplerFromEnv(undefined, undefined)).toEqual({ parentBased: true, ratio: 1 });
    expect(samplerFromEnv('parentbased_traceidratio', '0.1')).toEqual({ parentBased: true, ratio: 0.1 });
    expect(samplerFromEnv('traceidratio', '0.25')).toEqual({ parentBased: false, ratio: 0.25 });
    expect(samplerFromEnv('always_off', undefined)).toEqual({ parentBased: false, ratio: 0 });
    expect(samplerFromEnv('parentbased_always_off', undefined)).toEqual({ parentBased: true, ratio: 0 });
    expect(samplerFromEnv('always_on', undefined)).toEqual({ parentBased: false, ratio: 1 });
    // A missing or invalid argument keeps every trace; an unknown sampler is the default.
    expect(samplerFromEnv('parentbased_traceidratio', '')).toEqual({ parentBased: true, ratio: 1 });
    expect(samplerFromEnv('traceidratio', '1.5')).toEqual({ parentBased: false, ratio: 1 });
    expect(samplerFromEnv('jaeger_remote', 'x')).toEqual({ parentBased: true, ratio: 1 });
  });

  it('follows a valid parent when parent-based, else the ratio', () => {
    const tenth = { parentBased: true, ratio: 0.1 };
    expect(shouldTraceIncoming(SAMPLED, tenth, () => 0.99)).toBe(true);
    expect(shouldTraceIncoming(UNSAMPLED, tenth, () => 0)).toBe(false);
    expect(shouldTraceIncoming(undefined, tenth, () => 0.05)).toBe(true);
    expect(shouldTraceIncoming(undefined, tenth, () => 0.5)).toBe(false);
    // Malformed, all-zero ids or repeated headers are no parent: the ratio decides.
    expect(shouldTraceIncoming('garbage', tenth, () => 0.5)).toBe(false);
    expect(shouldTraceIncoming('00-00000000000000000000000000000000-00f067aa0ba902b7-01', tenth, () => 0.5)).toBe(false);
    expect(shouldTraceIncoming([SAMPLED, SAMPLED], tenth, () => 0.5)).toBe(false);
    // Not parent-based: the parent's flag does not matter.
    expect(shouldTraceIncoming(UNSAMPLED, { parentBased: false, ratio: 1 })).toBe(true);
    expect(shouldTraceIncoming(SAMPLED, { parentBased: false, ratio: 0 })).toBe(false);
  });

  it('keeps about the ratio of new traces', () => {
    const sampler = { parentBased: true, ratio: 0.1 };
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (shouldTraceIncoming(undefined, sampler)) kept++;
    expect(kept / 20_000).toBeGreaterThan(0.08);
    expect(kept / 20_000).toBeLessThan(0.12);
  });
});
