// Reading Stripe form parameters with Stripe's validation messages. Values arrive as strings (the SDK
// encodes numbers and booleans as text, and `null` as an empty string meaning "unset").
import type { FormObject, FormValue } from './form-encoding.js';
import { parameterInvalid, parameterMissing, parameterUnknown } from './stripe-error.js';

/**
 * What an endpoint does with each parameter Stripe defines for it. `implemented` ones change what the fake
 * returns; `ignored` ones are cosmetic for a subscription integration (locale, tax display…) and are only
 * recorded; any other Stripe parameter is refused loudly, so a test never passes because the fake silently
 * dropped something the code relies on.
 */
export interface ParamSpec {
  implemented: readonly string[];
  ignored?: readonly string[];
  /** Real Stripe parameters this fake does not model. */
  unsupported?: readonly string[];
}

export function checkParams(params: FormObject, spec: ParamSpec, endpoint: string, prefix = ''): void {
  for (const key of Object.keys(params)) {
    if (spec.implemented.includes(key) || spec.ignored?.includes(key)) continue;
    const name = prefix ? `${prefix}[${key}]` : key;
    if (spec.unsupported?.includes(key)) {
      throw parameterUnknown(name, `The fake Stripe server does not implement the parameter ${name} on ${endpoint}.`);
    }
    throw parameterUnknown(name);
  }
}

export function optionalString(params: FormObject, key: string, name = key): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw parameterInvalid(name, `Invalid string: ${describe(value)}`);
  return value;
}

/** A string that cannot be unset: Stripe rejects an empty value for it. */
export function optionalNonEmptyString(params: FormObject, key: string, name = key): string | undefined {
  const value = optionalString(params, key, name);
  if (value === '') {
    throw parameterInvalid(
      name,
      `You passed an empty string for '${name}'. We assume empty values are an attempt to unset a parameter; however '${name}' cannot be unset. You should remove '${name}' from your request or supply a non-empty value.`,
      'parameter_invalid_empty',
    );
  }
  return value;
}

export function requiredString(params: FormObject, key: string, name = key): string {
  const value = optionalNonEmptyString(params, key, name);
  if (value === undefined) throw parameterMissing(name);
  return value;
}

/** `''` is Stripe's "unset" and comes back as null. */
export function optionalNullableString(params: FormObject, key: string, name = key): string | null | undefined {
  const value = optionalString(params, key, name);
  return value === '' ? null : value;
}

export function optionalInteger(
  params: FormObject,
  key: string,
  { name = key, min, max }: { name?: string; min?: number; max?: number } = {},
): number | undefined {
  const raw = optionalString(params, key, name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw parameterInvalid(name, `Invalid integer: ${raw}`, 'parameter_invalid_integer');
  const value = Number(raw);
  if (min !== undefined && value < min) {
    throw parameterInvalid(name, `This value must be greater than or equal to ${min}.`, 'parameter_invalid_integer');
  }
  if (max !== undefined && value > max) {
    throw parameterInvalid(name, `This value must be less than or equal to ${max}.`, 'parameter_invalid_integer');
  }
  return value;
}

export function optionalBoolean(params: FormObject, key: string, name = key): boolean | undefined {
  const raw = optionalString(params, key, name);
  if (raw === undefined) return undefined;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw parameterInvalid(name, `Invalid boolean: ${raw}`);
}

export function optionalObject(params: FormObject, key: string, name = key): FormObject | undefined {
  const value = params[key];
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' || Array.isArray(value)) throw parameterInvalid(name, 'Invalid object');
  return value;
}

export function optionalList(params: FormObject, key: string, name = key): FormValue[] | undefined {
  const value = params[key];
  if (value === undefined || value === '') return undefined;
  if (!Array.isArray(value)) throw parameterInvalid(name, 'Invalid array');
  return value;
}

/** `expand[]` paths; Stripe caps nesting at four levels. */
export function expandPaths(params: FormObject): string[] {
  const list = optionalList(params, 'expand') ?? [];
  return list.map((entry, i) => {
    if (typeof entry !== 'string') throw parameterInvalid(`expand[${i}]`, 'Invalid string');
    if (entry.split('.').length > 4) {
      throw parameterInvalid(`expand[${i}]`, `You cannot expand more than 4 levels of a property. Property: ${entry}`);
    }
    return entry;
  });
}

/**
 * Stripe metadata: up to 50 string keys (≤ 40 chars) with string values (≤ 500 chars). An empty value
 * means "delete this key" on update; on create it is simply not stored.
 */
export function metadataUpdate(params: FormObject, key = 'metadata', name = key): Map<string, string | null> | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (value === '') return new Map(); // `metadata=` unsets the whole map; callers treat an empty update as a clear
  if (typeof value === 'string' || Array.isArray(value)) throw parameterInvalid(name, 'Invalid object');
  const update = new Map<string, string | null>();
  for (const [metaKey, metaValue] of Object.entries(value)) {
    if (typeof metaValue !== 'string') throw parameterInvalid(`${name}[${metaKey}]`, 'Invalid string');
    if (metaKey.length > 40) {
      throw parameterInvalid(`${name}[${metaKey}]`, 'Metadata keys can have up to 40 characters.');
    }
    if (metaValue.length > 500) {
      throw parameterInvalid(`${name}[${metaKey}]`, 'Metadata values can have up to 500 characters.');
    }
    update.set(metaKey, metaValue === '' ? null : metaValue);
  }
  if (update.size > 50) throw parameterInvalid(name, 'Metadata can have up to 50 keys.');
  return update;
}

/** Merges a metadata update; an empty update (from `metadata=`) clears every key. */
export function applyMetadata(current: Record<string, string>, update: Map<string, string | null> | undefined): Record<string, string> {
  if (!update) return current;
  const next: Record<string, string> = update.size === 0 ? {} : { ...current };
  for (const [key, value] of update) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

function describe(value: FormValue): string {
  return JSON.stringify(value);
}
