// The committed contract (openapi.json) as test material: its operations, a validator for the responses it
// declares (ajv 8 in JSON Schema 2020-12 mode, as OpenAPI 3.1 uses, with ajv-formats), and fast-check arbitraries
// that build requests from it: valid-ish values from each schema and hostile ones.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { REPO_ROOT } from './procs.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Schema = { [key: string]: unknown };

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  parameters: Parameter[];
  body: Schema | undefined;
  secured: boolean;
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

export interface Spec {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, Schema> };
}

export function loadSpec(): Spec {
  return JSON.parse(readFileSync(`${REPO_ROOT}openapi.json`, 'utf8')) as Spec;
}

export function operationsOf(spec: Spec): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const op = raw as { operationId: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> }; security?: unknown[]; responses: Operation['responses'] };
      ops.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content['application/json']?.schema,
        secured: (op.security ?? []).length > 0,
        responses: op.responses,
      });
    }
  }
  return ops;
}

// ajv is not a dependency of this workspace's root; Fastify validates with it, so take the very copy Fastify's
// compiler uses (ajv 8 and ajv-formats 3), resolved from the API package.
interface AjvError {
  instancePath: string;
  message?: string;
}
interface AjvValidate {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}
interface AjvInstance {
  addSchema(schema: object, key: string): AjvInstance;
  compile(schema: object): AjvValidate;
}
const apiRequire = createRequire(`${REPO_ROOT}packages/api/package.json`);
const compilerRequire = createRequire(createRequire(apiRequire.resolve('fastify')).resolve('@fastify/ajv-compiler'));
const Ajv2020 = (compilerRequire('ajv/dist/2020') as { default: new (options: object) => AjvInstance }).default;
const addFormats = (compilerRequire('ajv-formats') as { default: (ajv: AjvInstance) => void }).default;

/** Validates bodies against the schema the contract declares for an operation and status. */
export function responseValidator(spec: Spec) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ components: spec.components }, 'openapi');
  const cache = new Map<string, AjvValidate>();
  const rebase = (schema: unknown): unknown =>
    JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\/components\//g, '"$ref":"openapi#/components/'));
  return {
    /** The problems found ([] when valid). */
    check(key: string, schema: Schema, body: unknown): string[] {
      let validate = cache.get(key);
      if (!validate) {
        validate = ajv.compile(rebase(schema) as object);
        cache.set(key, validate);
      }
      return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    },
  };
}

// ---- arbitraries ---------------------------------------------------------------------------------------------

const UNICODE_SAMPLES = [
  'é', 'ß', '漢字', '🙂', '👩‍👩‍👧', '\u202Eevil', '\u200B', '\uFEFF', 'Ａ', '\uD800', '\uDFFF', '\u2028', 'ﷺ', 'a\u0301', '𝕏',
];

const NUL = String.fromCharCode(0);

/** Hostile strings: unicode of every kind, control characters (NUL included), injection-shaped text, long and very long. */
export const hostileString = (): fc.Arbitrary<string> =>
  fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.array(fc.constantFrom(...UNICODE_SAMPLES), { maxLength: 12 }).map((parts) => parts.join('')),
      fc.constantFrom(`a${NUL}b`, NUL, "' OR 1=1 --", '"; DROP TABLE users; --', '{{7*7}}', '${jndi:ldap://x}', '<script>alert(1)</script>', '../../etc/passwd', '%00', '\r\nX-Injected: 1', 'null', 'undefined', 'NaN', '-1', '0', '1e309', ' ', ''),
      fc.integer({ min: 1000, max: 60_000 }).map((n) => 'x'.repeat(n)),
      fc.integer({ min: 100, max: 2_000 }).map((n) => '🙂'.repeat(n)),
  );

/** Any JSON value of the wrong kind for a field. */
export const hostileValue = (): fc.Arbitrary<Json> =>
  fc.oneof(
    hostileString(),
    fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, [], {}, [null], { $gt: '' }, { __proto__: null } as Json),
    fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  );

const E164 = fc.tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 0, max: 9999 })).map(([a, b]) => `+1415${a}${String(b).padStart(4, '0')}`);

export interface Hints {
  /** Values that exist for this user (ids, the user's number...), by field name. */
  known?: Record<string, string[]>;
}

function resolve(spec: Spec, schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref === 'string') return resolve(spec, spec.components.schemas[ref.split('/').at(-1)!] as Schema);
  return schema;
}

/** Values the schema accepts (mostly), shaped like what clients send. */
export function validish(spec: Spec, raw: Schema, name = '', hints: Hints = {}): fc.Arbitrary<Json> {
  const schema = resolve(spec, raw);
  const known = hints.known?.[name];
  const withKnown = (arb: fc.Arbitrary<Json>) => (known?.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: arb }) : arb);
  const choices = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (choices) return fc.oneof(...choices.map((c) => validish(spec, c, name, hints)));
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as Json[]));
  switch (schema.type) {
    case 'string': {
      const minLength = (schema.minLength as number | undefined) ?? 0;
      const maxLength = Math.min((schema.maxLength as number | undefined) ?? 200, 200);
      if (name === 'mobileNumber') return withKnown(E164);
      if (schema.format === 'uuid') return withKnown(fc.uuid());
      if (schema.format === 'email') return withKnown(fc.emailAddress().filter((e) => e.length <= 254));
      if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      if (typeof schema.pattern === 'string') {
        return withKnown(fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length >= minLength && s.length <= ((schema.maxLength as number | undefined) ?? Infinity)));
      }
      return withKnown(fc.string({ minLength, maxLength: Math.max(minLength, maxLength), unit: fc.constantFrom('a', 'b', 'Z', '0', ' ', 'é', '漢', '🙂', '-', '_') }).filter((s) => s.length >= minLength));
    }
    case 'integer':
      return fc.integer({ min: (schema.minimum as number | undefined) ?? -1000, max: (schema.maximum as number | undefined) ?? 1000 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(validish(spec, (schema.items as Schema) ?? {}, name, hints), { maxLength: 3 });
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      const model: Record<string, fc.Arbitrary<Json>> = {};
      for (const [key, value] of Object.entries(properties)) model[key] = validish(spec, value, key, hints);
      return fc.record(model, { requiredKeys: required }) as fc.Arbitrary<Json>;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>;
  }
}

/** A request body: mostly valid-ish, often broken in one way (wrong type, hostile value, extra or missing field). */
export function bodyArb(spec: Spec, schema: Schema, hints: Hints): fc.Arbitrary<{ kind: string; text: string | undefined }> {
  const resolved = resolve(spec, schema);
  const properties = Object.keys((resolved.properties ?? {}) as object);
  const required = (resolved.required ?? []) as string[];
  const json = (kind: string) => (value: Json) => ({ kind, text: JSON.stringify(value) });
  const base = validish(spec, schema, '', hints);
  const asObject = (v: Json) => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
  return fc.oneof(
    { weight: 4, arbitrary: base.map(json('valid-ish')) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(base, fc.constantFrom(...(properties.length ? properties : ['field'])), hostileValue())
        .map(([v, key, bad]) => ({ ...asObject(v), [key]: bad }))
        .map(json('hostile field')),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !properties.includes(k) && k !== '__proto__'), hostileValue())
        .map(([v, key, extra]) => ({ ...asObject(v), [key]: extra }))
        .map(json('extra field')),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.constantFrom(...(required.length ? required : ['none'])))
        .map(([v, key]) => {
          const copy = { ...asObject(v) };
          delete copy[key];
          return copy;
        })
        .map(json('missing field')),
    },
    { weight: 1, arbitrary: hostileValue().map(json('wrong top-level type')) },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          base.map((v) => JSON.stringify(v).slice(0, -1)),
          fc.constantFrom('{', '{"a":}', "{'a':1}", '[1,2', 'nul', '{"a":1}{"b":2}', '\u00ff\u00fe{}', '{"__proto__":{"x":1}}', '{"a":1,"a":2}'),
          fc.string({ maxLength: 30 }),
        )
        .map((text) => ({ kind: 'malformed JSON', text })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'no body', text: undefined }) },
  );
}

/**
 * What a client can put in a header: visible Latin-1 (no CR/LF/NUL, which fetch refuses to send), of any length
 * (past Node's 16 kB limit for the whole header block, every operation declares a 431 problem).
 */
export const headerSafe = (value: string) =>
  [...value].filter((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) <= 0xff && ch.charCodeAt(0) !== 0x7f).join('').trim();

/** Header values, valid-ish or hostile. */
export const headerValue = (validishArb: fc.Arbitrary<Json>): fc.Arbitrary<string> =>
  fc
    .oneof({ weight: 3, arbitrary: validishArb.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) }, { weight: 2, arbitrary: hostileString() })
    .map(headerSafe);
