import type { Json, Schema, Spec } from './openapi.types.js';
import { stableId } from './stable-id.js';

// Examples built from the spec's schemas, because the converter's are random: the saved responses' bodies and
// the request bodies of routes without a scenario.

/** Builds an example value for a schema; `name` (the property or request it is for) seeds example uuids. */
export type ExampleBuilder = (schema: Schema, name: string) => Json;

export function makeExample(spec: Spec): ExampleBuilder {
  const resolve = (schema: Schema): Schema => {
    let current = schema;
    for (let depth = 0; current.$ref && depth < 20; depth++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = spec.components?.schemas?.[name] ?? {};
    }
    return current;
  };
  const example = (input: Schema, name: string, depth = 0): Json => {
    const schema = resolve(input);
    if (depth > 8) return null;
    if (schema.examples?.length) return schema.examples[0] ?? null;
    if (schema.example !== undefined) return schema.example;
    if (schema.const !== undefined) return schema.const;
    if (schema.default !== undefined) return schema.default;
    if (schema.enum?.length) return schema.enum[0] ?? null;
    const union = schema.anyOf ?? schema.oneOf;
    if (union?.length) {
      const nonNull = union.find((s) => resolve(s).type !== 'null') ?? union[0];
      return nonNull ? example(nonNull, name, depth + 1) : null;
    }
    if (schema.allOf?.length) {
      return Object.assign({}, ...schema.allOf.map((s) => example(s, name, depth + 1)));
    }
    const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
    if (type === 'object' || schema.properties) {
      const out: Record<string, Json> = {};
      for (const [key, prop] of Object.entries(schema.properties ?? {})) out[key] = example(prop, key, depth + 1);
      return out;
    }
    if (type === 'array') return schema.items ? [example(schema.items, name, depth + 1)] : [];
    if (type === 'integer' || type === 'number') return schema.minimum ?? 0;
    if (type === 'boolean') return false;
    if (type === 'null') return null;
    if (type === 'string') return stringExample(schema.format, name);
    return null;
  };
  return example;
}

function stringExample(format: string | undefined, name: string): string {
  switch (format) {
    case 'uuid':
      return stableId(`example:${name}`);
    case 'date-time':
      return '2026-01-01T12:00:00.000Z';
    case 'date':
      return '2026-01-01';
    case 'email':
      return 'ada@example.com';
    case 'uri':
      return 'https://example.com/';
    default:
      return 'string';
  }
}
