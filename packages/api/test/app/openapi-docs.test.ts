import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, REPLY_FAILURE_CODES, ROUTELESS_ERROR_CODES, loadConfig } from '@gemini-chat/shared';
import { buildApp } from '../../src/app.js';
import { buildTestApp, type TestApp } from '@gemini-chat/testkit';

// The spec is the API's manual (Swagger UI at /docs): this fails when an operation stops teaching what a client
// needs, or when its error responses drift from the code catalog.

interface Media {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, { summary?: string; value?: unknown }>;
}
interface Operation {
  operationId: string;
  description?: string;
  parameters?: { name: string; in: string; description?: string }[];
  requestBody?: { content: Record<string, Media> };
  responses: Record<string, { description: string; content?: Record<string, Media> }>;
  security?: Record<string, string[]>[];
}
interface Spec {
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, { enum?: string[]; anyOf?: unknown[] }> }> };
}

let spec: Spec;
let operations: { name: string; op: Operation }[];

beforeAll(async () => {
  const config = loadConfig({ NODE_ENV: 'development', PUBLIC_BASE_URL: 'http://127.0.0.1:3000' });
  const app = await buildApp({ config, logger: false, specOnly: true });
  await app.ready();
  spec = JSON.parse(JSON.stringify(app.swagger())) as Spec;
  await app.close();
  operations = Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ name: `${method.toUpperCase()} ${path} (${op.operationId})`, op })),
  );
});

const errorStatuses = (op: Operation) => Object.keys(op.responses).filter((s) => Number(s) >= 400);
const codesOf = (op: Operation) =>
  errorStatuses(op).flatMap((status) => Object.keys(op.responses[status]?.content?.['application/problem+json']?.examples ?? {}));

function bodyValidator() {
  const compilerRequire = createRequire(createRequire(createRequire(import.meta.url).resolve('fastify')).resolve('@fastify/ajv-compiler'));
  type Ajv = { addSchema(s: object, key: string): void; compile(s: object): ((v: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] } };
  const Ajv2020 = (compilerRequire('ajv/dist/2020') as { default: new (o: object) => Ajv }).default;
  const addFormats = (compilerRequire('ajv-formats') as { default: (ajv: Ajv) => void }).default;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ components: spec.components }, 'openapi');
  return (schema: unknown, value: unknown): string[] => {
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\/components\//g, '"$ref":"openapi#/components/')) as object);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  };
}

describe('the OpenAPI spec as documentation', () => {
  it('gives every operation a description and a named success response', () => {
    const missing: string[] = [];
    for (const { name, op } of operations) {
      if (!op.description || op.description.length < 40) missing.push(`${name}: no description`);
      const successes = Object.entries(op.responses).filter(([status]) => Number(status) < 400);
      if (successes.length === 0) missing.push(`${name}: no success response`);
      for (const [status, response] of successes) {
        if (!response.description || response.description === 'Default Response') missing.push(`${name}: ${status} is not named`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives every JSON request body an example that its schema accepts', () => {
    const check = bodyValidator();
    const wrong: string[] = [];
    for (const { name, op } of operations) {
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
        // A multipart upload is a file picker in Swagger UI: there is nothing to prefill.
        if (type === 'multipart/form-data') continue;
        const examples = media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => e.value);
        if (examples.length === 0) {
          // The webhook's body is whatever Stripe signed: no example can carry a valid signature.
          if (op.operationId !== 'receiveStripeWebhook') wrong.push(`${name}: no ${type} example`);
          continue;
        }
        for (const example of examples) wrong.push(...check(media.schema, example).map((e) => `${name}: example ${e}`));
      }
    }
    expect(wrong).toEqual([]);
  });

  it('describes every path and query parameter', () => {
    const bare = operations.flatMap(({ name, op }) =>
      (op.parameters ?? []).filter((p) => (p.in === 'path' || p.in === 'query') && !p.description).map((p) => `${name}: ${p.in} ${p.name}`),
    );
    expect(bare).toEqual([]);
  });

  it('lists, for every error status, its codes with one example problem per code at that status', () => {
    const check = bodyValidator();
    const wrong: string[] = [];
    for (const { name, op } of operations) {
      if (errorStatuses(op).length === 0) wrong.push(`${name}: no error responses`);
      for (const status of errorStatuses(op)) {
        const response = op.responses[status]!;
        const media = response.content?.['application/problem+json'];
        // GET /ready's 503 is its own report (which dependency is down), not a problem.
        if (!media && op.operationId === 'ready') continue;
        const examples = Object.entries(media?.examples ?? {});
        if (examples.length === 0) wrong.push(`${name} ${status}: no examples`);
        for (const [code, example] of examples) {
          const value = example.value as { code?: string; status?: number; detail?: string } | undefined;
          if (!(code in ERROR_CODES)) wrong.push(`${name} ${status}: ${code} is not in the catalog`);
          else if (String(ERROR_CODES[code as keyof typeof ERROR_CODES].status) !== status) wrong.push(`${name} ${status}: ${code} is a ${ERROR_CODES[code as keyof typeof ERROR_CODES].status}`);
          if (value?.code !== code || String(value.status) !== status || !value.detail) wrong.push(`${name} ${status}: example ${code} is not a problem of its code`);
          if (!response.description.includes(`\`${code}\``)) wrong.push(`${name} ${status}: the description does not list ${code}`);
          wrong.push(...check(media?.schema, value).map((e) => `${name} ${status}: example ${code} ${e}`));
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('states the credentials failures each route can answer, as its security says', () => {
    const wrong: string[] = [];
    for (const { name, op } of operations) {
      const codes = new Set(codesOf(op));
      const schemes = new Set((op.security ?? []).flatMap((s) => Object.keys(s)));
      const expected = schemes.has('apiKeyAuth')
        ? ['UNAUTHORIZED', 'TOKEN_EXPIRED', 'SESSION_REVOKED', 'INVALID_API_KEY', 'RATE_LIMITED']
        : schemes.has('bearerAuth')
          ? ['UNAUTHORIZED', 'TOKEN_EXPIRED', 'SESSION_REVOKED', 'API_KEY_NOT_ALLOWED']
          : ['API_KEY_NOT_ALLOWED'];
      for (const code of expected) if (!codes.has(code)) wrong.push(`${name}: ${code} missing`);
      if (schemes.has('apiKeyAuth') && codes.has('API_KEY_NOT_ALLOWED')) wrong.push(`${name}: takes API keys, yet lists API_KEY_NOT_ALLOWED`);
      if (!schemes.has('apiKeyAuth') && codes.has('INVALID_API_KEY')) wrong.push(`${name}: takes no API key, yet lists INVALID_API_KEY`);
      if (op.requestBody?.content['application/json'] && op.operationId !== 'receiveStripeWebhook') {
        for (const code of ['INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']) if (!codes.has(code)) wrong.push(`${name}: ${code} missing`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers every catalogued code somewhere, and states Problem.code and a failed reply\'s error.code as closed lists', () => {
    const answered = new Set(operations.flatMap(({ op }) => codesOf(op)));
    const routeless = new Set<string>(ROUTELESS_ERROR_CODES);
    expect(Object.keys(ERROR_CODES).filter((code) => !answered.has(code) && !routeless.has(code))).toEqual([]);
    // Codes answered before any route is chosen are explained in the page's introduction instead.
    for (const code of ROUTELESS_ERROR_CODES) expect(spec.info.description).toContain(code);

    expect(spec.components.schemas.Problem?.properties?.code?.enum?.slice().sort()).toEqual(Object.keys(ERROR_CODES).sort());
    const messageError = JSON.stringify(spec.components.schemas.Message?.properties?.error);
    for (const code of Object.keys(REPLY_FAILURE_CODES)) expect(messageError).toContain(`"${code}"`);
  });

  it('opens with how to get a token and where to go next', () => {
    const intro = spec.info.description;
    for (const step of ['POST /auth/signup', 'POST /auth/verify-otp', 'accessToken', 'Authorize', 'Prefer: wait', 'POST /files', 'GET /search', 'POST /user/api-keys', 'POST /subscribe/pro']) {
      expect(intro, step).toContain(step);
    }
    const paths = new Set(operations.map(({ name }) => name.split(' (')[0]));
    // Every route the introduction names exists.
    for (const [, method, path] of intro.matchAll(/\b(GET|POST|PATCH|DELETE) (\/[\w/{}-]*)/g)) {
      expect(paths, `${method} ${path}`).toContain(`${method} ${path}`);
    }
  });
});

describe('the request-body examples, tried in order as the page says', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  const example = (path: string, method: string): Record<string, unknown> => {
    const content = spec.paths[path]?.[method]?.requestBody?.content['application/json'];
    return structuredClone(content?.example) as Record<string, unknown>;
  };
  const call = async (method: string, path: string, url: string, auth?: string, patch: Record<string, unknown> = {}) => {
    const res = await t.app.inject({
      method: method.toUpperCase() as 'POST',
      url,
      payload: { ...example(path, method), ...patch },
      headers: auth ? { authorization: `Bearer ${auth}` } : {},
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };

  it('signs up, verifies, creates and renames a chatroom, sends a message, makes a key, updates the profile, signs in by password', async () => {
    // Only what the page tells the reader to paste is replaced: the code, the token, ids from earlier answers.
    const signup = await call('post', '/auth/signup', '/auth/signup');
    expect(signup.status, JSON.stringify(signup.body)).toBe(201);
    const otp = (signup.body.otpChallenge as { otp: string }).otp;
    const verified = await call('post', '/auth/verify-otp', '/auth/verify-otp', undefined, { otp });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    const token = verified.body.accessToken as string;

    const room = await call('post', '/chatroom', '/chatroom', token);
    expect(room.status, JSON.stringify(room.body)).toBe(201);
    const id = room.body.id as string;
    expect((await call('patch', '/chatroom/{id}', `/chatroom/${id}`, token)).status).toBe(200);
    const sent = await call('post', '/chatroom/{id}/message', `/chatroom/${id}/message`, token);
    expect(sent.status, JSON.stringify(sent.body)).toBe(202);

    expect((await call('post', '/user/api-keys', '/user/api-keys', token)).status).toBe(201);
    expect((await call('patch', '/user/me', '/user/me', token)).status).toBe(200);
    const imported = await call('post', '/chatroom/import', '/chatroom/import', token);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const login = await call('post', '/auth/login', '/auth/login');
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    const refreshed = await call('post', '/auth/refresh', '/auth/refresh', undefined, { refreshToken: login.body.refreshToken });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });
});
