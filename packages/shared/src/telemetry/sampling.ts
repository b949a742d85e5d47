/**
 * Head sampling decided at the door. The OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG choice, read once, and the
 * decision for an incoming request taken from its `traceparent` header alone, before any OpenTelemetry code runs
 * for it: a request the sampler drops is left untouched (no span, no context, no database or Redis span under it).
 * Pure (no OpenTelemetry import), so the settings can be read before the SDK loads.
 */
export interface SamplerSettings {
  /** Follow an incoming or carried parent's decision (the `parentbased_*` samplers). */
  parentBased: boolean;
  /** The share of new traces kept: 1 = all (always_on), 0 = none (always_off). */
  ratio: number;
}

const RATIO_SAMPLERS = new Set(['traceidratio', 'parentbased_traceidratio']);

/** The sampler the standard variables ask for; the SDK's default (parentbased_always_on) when unset or unknown. */
export function samplerFromEnv(name: string | undefined, arg: string | undefined): SamplerSettings {
  const sampler = (name ?? '').trim().toLowerCase() || 'parentbased_always_on';
  const parentBased = !['always_on', 'always_off', 'traceidratio'].includes(sampler);
  if (sampler.endsWith('always_off')) return { parentBased, ratio: 0 };
  if (!RATIO_SAMPLERS.has(sampler)) return { parentBased, ratio: 1 };
  const ratio = Number(arg);
  // As the SDK does: a missing or out-of-range argument keeps every trace.
  return { parentBased, ratio: arg?.trim() && Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1 };
}

const TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/** Whether an incoming request starts (or joins) a sampled trace, from its `traceparent` header. */
export function shouldTraceIncoming(
  traceparent: string | string[] | undefined,
  sampler: SamplerSettings,
  random: () => number = Math.random,
): boolean {
  const parent = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent.trim()) : null;
  if (sampler.parentBased && parent && !/^0+$/.test(parent[1]!) && !/^0+$/.test(parent[2]!)) {
    return (Number.parseInt(parent[3]!, 16) & 1) === 1;
  }
  return sampler.ratio >= 1 || (sampler.ratio > 0 && random() < sampler.ratio);
}
