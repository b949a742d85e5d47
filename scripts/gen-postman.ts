// `tsx scripts/gen-postman.ts [--check]`: turns the committed openapi.json into the Postman collection at
// postman/gemini-chat.postman_collection.json (plus postman/local.postman_environment.json).
//
// The maintained converter (openapi-to-postmanv2) builds the folders, URLs, parameters and descriptions from the
// spec; this script then makes the collection runnable top to bottom (newman, or Postman's runner): collection
// variables, collection-level bearer auth, a scripted sign-in flow, a test on every request, a fixed order (the
// destructive requests last), and deterministic output (ids derived from names, examples built from the schemas,
// no timestamps) so regenerating from the same spec gives the same bytes.
//
// Every operation in the spec ends up in the collection. Operations with a scenario below get tailored requests
// and assertions; any other operation (a route added later) still gets a generic test: the status is one the
// spec documents and not a 5xx, and errors are problem+json. The script lists those so someone can add one.
//
// --check: write nothing; exit 1 when the committed files differ from what the spec produces.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SPEC_PATH = join(ROOT, 'openapi.json');
const COLLECTION_PATH = join(ROOT, 'postman', 'gemini-chat.postman_collection.json');
const ENVIRONMENT_PATH = join(ROOT, 'postman', 'local.postman_environment.json');
const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';
const FINISH_FOLDER = 'Finish (destructive, runs last)';
/** Tag folders in run order; tags not listed here follow in the spec's order, then the finish folder. */
const FOLDER_ORDER = ['Auth', 'User', 'Chatrooms', 'Messages', 'Billing', 'Operations'];

// ---------------------------------------------------------------------------------------------------------------
// Minimal types: the OpenAPI document and the Postman collection v2.1 parts this script reads or writes.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: Json[];
  const?: Json;
  default?: Json;
  example?: Json;
  examples?: Json[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
}
interface MediaType {
  schema?: Schema;
}
interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}
interface Spec {
  info: { title: string; description?: string; version: string };
  security?: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface PmHeader {
  key: string;
  value: string;
  disabled?: boolean;
  description?: string;
}
interface PmVariable {
  key: string;
  value: string;
  type?: string;
  disabled?: boolean;
  description?: string;
}
interface PmUrl {
  raw?: string;
  host?: string[];
  path?: string[];
  query?: PmVariable[];
  variable?: PmVariable[];
}
interface PmBody {
  mode: string;
  raw?: string;
  options?: { raw?: { language?: string } };
}
interface PmAuth {
  type: string;
  bearer?: Array<{ key: string; value: string; type: string }>;
}
interface PmRequest {
  name?: string;
  description?: { content: string; type: string } | string;
  url: PmUrl;
  header?: PmHeader[];
  method: string;
  body?: PmBody;
  auth?: PmAuth;
}
interface PmResponse {
  id?: string;
  name: string;
  originalRequest?: PmRequest;
  status?: string;
  code: number;
  header?: PmHeader[];
  body?: string;
  cookie?: unknown[];
  _postman_previewlanguage?: string;
}
interface PmEvent {
  listen: 'prerequest' | 'test';
  script: { id?: string; type: string; exec: string[] };
}
interface PmItem {
  id?: string;
  name: string;
  description?: { content: string; type: string } | string;
  item?: PmItem[];
  request?: PmRequest;
  response?: PmResponse[];
  event?: PmEvent[];
  protocolProfileBehavior?: Record<string, unknown>;
}
interface PmCollection {
  info: { _postman_id?: string; name: string; schema: string; description?: { content: string; type: string } | string };
  item: PmItem[];
  event?: PmEvent[];
  variable?: PmVariable[];
  auth?: PmAuth;
}
interface ConversionResult {
  result: boolean;
  reason?: string;
  output?: Array<{ type: string; data: PmCollection }>;
}
interface Converter {
  convert(
    input: { type: 'json'; data: unknown },
    options: Record<string, unknown>,
    callback: (err: Error | null, result: ConversionResult) => void,
  ): void;
}

// ---------------------------------------------------------------------------------------------------------------
// Determinism helpers.

/** A UUID-shaped id derived from a name (the SHA-1 name-based layout of RFC 9562, version 5). */
function stableId(name: string): string {
  const hex = createHash('sha1').update(`gemini-chat-postman:${name}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** The converter fakes values with Math.random: seed it so nothing it produces varies between runs. */
function seedMathRandom(seed: number): () => void {
  const original = Math.random;
  let state = seed >>> 0;
  Math.random = () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    Math.random = original;
  };
}

/**
 * Script source (a tagged template): a multi-line value is indented like the line it is placed on, then the
 * common indentation is removed, so generated scripts read as written here.
 */
function js(strings: TemplateStringsArray, ...values: unknown[]): string {
  let source = strings[0] ?? '';
  values.forEach((value, i) => {
    const indent = source.slice(source.lastIndexOf('\n') + 1).match(/^ */)?.[0] ?? '';
    source += String(value).split('\n').join(`\n${indent}`) + (strings[i + 1] ?? '');
  });
  const lines = source.replace(/^\n+|\s+$/g, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent).trimEnd()).join('\n');
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

// ---------------------------------------------------------------------------------------------------------------
// Examples built from the spec's schemas (the converter's are random): saved responses and unknown routes' bodies.

function makeExample(spec: Spec) {
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
    if (type === 'string') {
      switch (schema.format) {
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
    return null;
  };
  return example;
}

// ---------------------------------------------------------------------------------------------------------------
// Test snippets shared by the scenarios (generated into each request's script, so every request reads alone).

const UUID_RE = '/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/';

function statusTest(code: number): string {
  const label = `${code} ${STATUS_CODES[code] ?? ''}`.trim();
  return `pm.test('status is ${label}', () => pm.response.to.have.status(${code}));`;
}

/** An error answer: status, problem+json content type, and the stable code. */
function problemTest(code: number, problemCode: string): string {
  return js`
    ${statusTest(code)}
    pm.test('problem+json with code ${problemCode}', () => {
      pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');
      const problem = pm.response.json();
      pm.expect(problem.status).to.eql(${code});
      pm.expect(problem.code).to.eql('${problemCode}');
      pm.expect(problem.requestId).to.be.a('string');
    });
  `;
}

const storeTokens = js`
  pm.test('tokens: a Bearer access token and a refresh token', () => {
    pm.expect(body.tokenType).to.eql('Bearer');
    pm.expect(body.accessToken).to.be.a('string').and.not.empty;
    pm.expect(body.refreshToken).to.be.a('string').and.not.empty;
    pm.expect(body.expiresIn).to.be.above(0);
    pm.expect(body.user.mobileNumber).to.eql(pm.variables.get('mobileNumber'));
  });
  if (body.accessToken) pm.collectionVariables.set('accessToken', body.accessToken);
  if (body.refreshToken) pm.collectionVariables.set('refreshToken', body.refreshToken);
`;

const otpChallengeTest = js`
  pm.test('an OTP challenge; the code is in the body (OTP_DELIVERY=response)', () => {
    pm.expect(Date.parse(body.expiresAt)).to.be.above(Date.now());
    pm.expect(body.resendAfter).to.be.a('string');
    pm.expect(body.otp, 'run the API with OTP_DELIVERY=response to get the code here').to.match(/^\\d{6}$/);
  });
  if (body.otp) pm.collectionVariables.set('otp', body.otp);
`;

const messageShape = (variable: string) =>
  js`
    pm.expect(${variable}.id).to.match(${UUID_RE});
    pm.expect(${variable}.chatroomId).to.eql(pm.variables.get('chatroomId'));
    pm.expect(['user', 'assistant']).to.include(${variable}.role);
    pm.expect(['queued', 'generating', 'completed', 'failed', 'cancelled']).to.include(${variable}.status);
  `;

/** 503 BILLING_NOT_CONFIGURED is accepted only when the server takes no payments and billingRequired is not true. */
function billingTest(code: number, checks: string): string {
  return js`
    const billingOff = pm.response.code === 503 && (pm.response.json() || {}).code === 'BILLING_NOT_CONFIGURED';
    if (billingOff && pm.variables.get('billingRequired') !== 'true') {
      pm.test('billing is off on this server (503 BILLING_NOT_CONFIGURED): set billingRequired=true to insist', () => {
        pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');
      });
    } else {
      ${statusTest(code)}
      const body = pm.response.json();
      ${checks}
    }
  `;
}

// ---------------------------------------------------------------------------------------------------------------
// The run: one scenario per request, in order. `op` names the spec operation (operationId) the request is built
// from; a scenario with `key` is an extra request on the same operation (e.g. a second login).

interface Scenario {
  op: string;
  /** Unique per request; defaults to op. */
  key?: string;
  /** Defaults to the converter's name (the operation summary). */
  name?: string;
  /** Defaults to the operation's tag folder. */
  folder?: string;
  /** What this request does in the run, appended to the operation's description. */
  note?: string;
  body?: Json;
  /** Headers to send (added or enabled); other optional headers stay disabled. */
  headers?: Record<string, string>;
  /** Query parameters to send (added or enabled). */
  query?: Record<string, string>;
  prerequest?: string;
  test: string;
  /** The status the test expects: its saved example is kept next to the success ones. */
  expect: number;
  /** For an expected error: the problem the saved example shows. */
  problem?: { code: string; detail: string };
}

/** A request whose expected answer is a problem: the test, the status and the saved example's problem. */
function expectProblem(status: number, code: string, detail: string): Pick<Scenario, 'test' | 'expect' | 'problem'> {
  return { test: problemTest(status, code), expect: status, problem: { code, detail } };
}

const SCENARIOS: Scenario[] = [
  // --- Auth: sign up with a fresh number, verify it, then exercise the token endpoints -----------------------
  {
    op: 'signup',
    note: 'Pre-request: picks a fresh valid number (+1 415, an exchange starting 2-9, 6 random digits) into `mobileNumber`. Test: stores the signup OTP (`otpChallenge.otp`, present with OTP_DELIVERY=response) in `otp`.',
    body: { mobileNumber: '{{mobileNumber}}', name: 'Postman Runner' },
    prerequest: js`
      // A new account on every run: +1 415, an exchange code starting 2-9, then 6 random digits (valid E.164).
      const exchangeFirstDigit = 2 + Math.floor(Math.random() * 8);
      const rest = String(Math.floor(Math.random() * 1000000)).padStart(6, '0');
      pm.collectionVariables.set('mobileNumber', '+1415' + exchangeFirstDigit + rest);
    `,
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('the user is registered, basic, not yet verified', () => {
        pm.expect(body.user.id).to.match(${UUID_RE});
        pm.expect(body.user.mobileNumber).to.eql(pm.variables.get('mobileNumber'));
        pm.expect(body.user.mobileVerified).to.eql(false);
        pm.expect(body.user.tier).to.eql('basic');
        pm.expect(body.user.hasPassword).to.eql(false);
      });
      pm.test('the signup OTP is in the body (OTP_DELIVERY=response)', () => {
        pm.expect(body.otpChallenge.otp, 'run the API with OTP_DELIVERY=response to get the code here').to.match(/^\\d{6}$/);
      });
      if (body.otpChallenge && body.otpChallenge.otp) pm.collectionVariables.set('otp', body.otpChallenge.otp);
    `,
    expect: 201,
  },
  {
    op: 'verifyOtp',
    note: 'Exchanges `mobileNumber` + `otp` for tokens; stores `accessToken` and `refreshToken`.',
    body: { mobileNumber: '{{mobileNumber}}', otp: '{{otp}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
      pm.test('the number is now verified', () => pm.expect(body.user.mobileVerified).to.eql(true));
    `,
    expect: 200,
  },
  {
    op: 'sendOtp',
    note: 'Issues a login OTP for the registered number (stored in `otp`; not needed further: the run signs in with a password later).',
    body: { mobileNumber: '{{mobileNumber}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${otpChallengeTest}
    `,
    expect: 200,
  },
  {
    op: 'refreshTokens',
    note: 'Rotates `refreshToken`: a new pair replaces the stored one.',
    body: { refreshToken: '{{refreshToken}}' },
    test: js`
      const previous = pm.variables.get('refreshToken');
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the refresh token was rotated', () => pm.expect(body.refreshToken).to.not.eql(previous));
      ${storeTokens}
    `,
    expect: 200,
  },
  {
    op: 'changePassword',
    note: 'Sets a first password (`password`; no `currentPassword` while none is set). Revokes the other sessions and returns fresh tokens, which are stored.',
    body: { newPassword: '{{password}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
      pm.test('the account now has a password', () => pm.expect(body.user.hasPassword).to.eql(true));
    `,
    expect: 200,
  },
  {
    op: 'login',
    note: 'Signs in with `mobileNumber` + `password`; stores the tokens used by the rest of the run.',
    body: { mobileNumber: '{{mobileNumber}}', password: '{{password}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
    `,
    expect: 200,
  },

  // --- User ----------------------------------------------------------------------------------------------------
  {
    op: 'getMe',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the signed-in user', () => {
        pm.expect(body.mobileNumber).to.eql(pm.variables.get('mobileNumber'));
        pm.expect(body.mobileVerified).to.eql(true);
        pm.expect(body.hasPassword).to.eql(true);
        pm.expect(['basic', 'pro']).to.include(body.tier);
      });
      pm.test("today's usage", () => {
        pm.expect(body.usage.used).to.be.a('number');
        pm.expect(body.usage).to.have.property('limit');
        pm.expect(Date.parse(body.usage.resetsAt)).to.be.above(Date.now());
      });
    `,
    expect: 200,
  },
  {
    op: 'updateMe',
    body: { name: 'Ada Lovelace', email: 'ada@example.com' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('name and email are updated', () => {
        pm.expect(body.name).to.eql('Ada Lovelace');
        pm.expect(body.email).to.eql('ada@example.com');
      });
    `,
    expect: 200,
  },

  // --- Chatrooms -----------------------------------------------------------------------------------------------
  {
    op: 'createChatroom',
    note: 'Stores the new chatroom in `chatroomId`.',
    body: { title: 'Trip ideas', systemPrompt: 'Be brief.' },
    test: js`
      ${statusTest(201)}
      const body = pm.response.json();
      pm.test('the chatroom as created', () => {
        pm.expect(body.id).to.match(${UUID_RE});
        pm.expect(body.title).to.eql('Trip ideas');
        pm.expect(body.systemPrompt).to.eql('Be brief.');
      });
      if (body.id) pm.collectionVariables.set('chatroomId', body.id);
    `,
    expect: 201,
  },
  {
    op: 'listChatrooms',
    note: 'Stores the list `ETag` in `chatroomListEtag` for the conditional request that follows.',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('a page that lists the new chatroom', () => {
        pm.expect(body.items).to.be.an('array');
        pm.expect(body.items.map((room) => room.id)).to.include(pm.variables.get('chatroomId'));
        pm.expect(body).to.have.property('nextCursor');
      });
      pm.test('an ETag for conditional requests', () => pm.expect(pm.response.headers.get('ETag')).to.be.a('string').and.not.empty);
      pm.collectionVariables.set('chatroomListEtag', pm.response.headers.get('ETag') || '');
    `,
    expect: 200,
  },
  {
    op: 'listChatrooms',
    key: 'listChatrooms:notModified',
    name: 'The chatroom list again, with If-None-Match (304 Not Modified)',
    note: 'Sends the stored `chatroomListEtag` back: nothing changed, so 304 with no body.',
    query: { limit: '20' },
    headers: { 'if-none-match': '{{chatroomListEtag}}' },
    test: js`
      ${statusTest(304)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 304,
  },
  {
    op: 'getChatroom',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the chatroom with its (still empty) messages', () => {
        pm.expect(body.id).to.eql(pm.variables.get('chatroomId'));
        pm.expect(body.messages).to.be.an('array').that.is.empty;
        pm.expect(body.hasMoreMessages).to.eql(false);
        pm.expect(body.messagesNextCursor).to.eql(null);
      });
    `,
    expect: 200,
  },
  {
    op: 'updateChatroom',
    body: { title: 'Lisbon trip', systemPrompt: 'Be brief and practical.' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('renamed, new system prompt', () => {
        pm.expect(body.id).to.eql(pm.variables.get('chatroomId'));
        pm.expect(body.title).to.eql('Lisbon trip');
        pm.expect(body.systemPrompt).to.eql('Be brief and practical.');
      });
    `,
    expect: 200,
  },

  // --- Messages ------------------------------------------------------------------------------------------------
  {
    op: 'sendMessage',
    note: '`Prefer: wait=10` holds the request until the reply is finished (200). Stores the prompt in `messageId` and the reply in `replyId`. A fresh `Idempotency-Key` per run.',
    body: { content: 'Plan a day in Lisbon' },
    headers: { 'idempotency-key': '{{$guid}}', prefer: 'wait=10' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the prompt and its completed reply', () => {
        ${messageShape('body.userMessage')}
        pm.expect(body.userMessage.role).to.eql('user');
        pm.expect(body.userMessage.content).to.eql('Plan a day in Lisbon');
        pm.expect(body.reply.role).to.eql('assistant');
        pm.expect(body.reply.replyToId).to.eql(body.userMessage.id);
        pm.expect(body.reply.status).to.eql('completed');
        pm.expect(body.reply.content).to.be.a('string').and.not.empty;
      });
      pm.test("links to poll and stream the reply, today's quota", () => {
        pm.expect(body.links.reply).to.include(body.reply.id);
        pm.expect(body.links.stream).to.include('/stream');
        pm.expect(body.quota.used).to.be.at.least(1);
      });
      if (body.quota && body.quota.limit !== null) {
        pm.test('RateLimit-* headers match the quota', () => {
          pm.expect(Number(pm.response.headers.get('RateLimit-Limit'))).to.eql(body.quota.limit);
          pm.expect(Number(pm.response.headers.get('RateLimit-Remaining'))).to.eql(Math.max(0, body.quota.limit - body.quota.used));
          pm.expect(Number(pm.response.headers.get('RateLimit-Reset'))).to.be.above(0);
        });
      }
      if (body.userMessage) pm.collectionVariables.set('messageId', body.userMessage.id);
      if (body.reply) pm.collectionVariables.set('replyId', body.reply.id);
    `,
    expect: 200,
  },
  {
    op: 'getLatestReply',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the newest reply, finished', () => {
        pm.expect(body.id).to.eql(pm.variables.get('replyId'));
        pm.expect(body.status).to.eql('completed');
        pm.expect(body.replyToId).to.eql(pm.variables.get('messageId'));
      });
    `,
    expect: 200,
  },
  {
    op: 'listMessages',
    query: { limit: '20' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('newest first: the reply, then the prompt', () => {
        pm.expect(body.items.map((m) => m.id)).to.eql([pm.variables.get('replyId'), pm.variables.get('messageId')]);
        pm.expect(body.nextCursor).to.eql(null);
      });
    `,
    expect: 200,
  },
  {
    op: 'getMessage',
    note: 'Polls the reply (`messageId` path variable = `{{replyId}}`).',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('the completed reply with its usage and model', () => {
        ${messageShape('body')}
        pm.expect(body.id).to.eql(pm.variables.get('replyId'));
        pm.expect(body.status).to.eql('completed');
        pm.expect(body.error).to.eql(null);
        pm.expect(body.usage.outputTokens).to.be.a('number');
        pm.expect(body.model).to.be.a('string');
        pm.expect(body.completedAt).to.be.a('string');
      });
    `,
    expect: 200,
  },
  {
    op: 'streamReply',
    note: 'The reply is finished, so the stream replays it in full and ends (a live reply streams `delta` events as it is written).',
    test: js`
      ${statusTest(200)}
      pm.test('Server-Sent Events', () => pm.expect(pm.response.headers.get('Content-Type')).to.include('text/event-stream'));
      pm.test('delta events, then done with the final message', () => {
        const text = pm.response.text();
        pm.expect(text).to.include('event: delta');
        const done = text.split('\\n\\n').find((frame) => frame.includes('event: done'));
        pm.expect(done, 'a done event').to.be.a('string');
        const data = JSON.parse(done.split('\\n').find((line) => line.startsWith('data: ')).slice('data: '.length));
        pm.expect(data.id).to.eql(pm.variables.get('replyId'));
        pm.expect(data.status).to.eql('completed');
      });
    `,
    expect: 200,
  },
  {
    op: 'cancelReply',
    note: 'The reply already completed, so cancelling it is refused: 409 REPLY_ALREADY_FINISHED (a queued or generating reply would answer 200, `cancelled`).',
    ...expectProblem(409, 'REPLY_ALREADY_FINISHED', 'This reply already ended (completed).'),
  },
  {
    op: 'regenerateReply',
    note: 'A new reply to the same prompt, held with `Prefer: wait=10`; stored in `replyId`.',
    headers: { 'idempotency-key': '{{$guid}}', prefer: 'wait=10' },
    test: js`
      const previousReply = pm.variables.get('replyId');
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('a new completed reply to the same prompt', () => {
        pm.expect(body.reply.id).to.not.eql(previousReply);
        pm.expect(body.reply.replyToId).to.eql(pm.variables.get('messageId'));
        pm.expect(body.reply.status).to.eql('completed');
      });
      if (body.reply) pm.collectionVariables.set('replyId', body.reply.id);
    `,
    expect: 200,
  },

  // --- Billing (when the spec has it) ------------------------------------------------------------------------------
  {
    op: 'getSubscriptionStatus',
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      pm.test('a new user: basic, no subscription', () => {
        pm.expect(body.tier).to.eql('basic');
        pm.expect(body.status).to.eql('none');
        pm.expect(body.cancelAtPeriodEnd).to.eql(false);
        pm.expect(body.usage.used).to.be.a('number');
      });
    `,
    expect: 200,
  },
  {
    op: 'subscribePro',
    note: 'Creates a Stripe Checkout Session; open `checkoutUrl` to pay (the local fake Stripe pays with one click). Without Stripe configured the server answers 503 BILLING_NOT_CONFIGURED, accepted unless `billingRequired` is `true`.',
    test: billingTest(
      201,
      js`
        pm.test('a Checkout URL and session id', () => {
          pm.expect(body.checkoutUrl).to.match(/^https?:\\/\\//);
          pm.expect(body.sessionId).to.be.a('string').and.not.empty;
        });
      `,
    ),
    expect: 201,
  },
  {
    op: 'createBillingPortalSession',
    note: 'Works once a checkout was started (the previous request). Same 503 rule as above.',
    test: billingTest(
      201,
      js`
        pm.test('a Billing Portal URL', () => pm.expect(body.url).to.match(/^https?:\\/\\//));
      `,
    ),
    expect: 201,
  },
  {
    op: 'receiveStripeWebhook',
    note: 'Called by Stripe, not by clients: without a valid `Stripe-Signature` the event is refused with 400 WEBHOOK_SIGNATURE_INVALID and nothing is stored (503 BILLING_NOT_CONFIGURED when billing is off).',
    body: { id: 'evt_unsigned_postman', type: 'checkout.session.completed', object: 'event' },
    test: js`
      const billingOff = pm.response.code === 503 && (pm.response.json() || {}).code === 'BILLING_NOT_CONFIGURED';
      if (billingOff && pm.variables.get('billingRequired') !== 'true') {
        pm.test('billing is off on this server (503 BILLING_NOT_CONFIGURED): set billingRequired=true to insist', () => {
          pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');
        });
      } else {
        ${problemTest(400, 'WEBHOOK_SIGNATURE_INVALID')}
      }
    `,
    expect: 400,
    problem: { code: 'WEBHOOK_SIGNATURE_INVALID', detail: 'The Stripe-Signature header is missing, stale, or does not match the body.' },
  },

  // --- Operations ----------------------------------------------------------------------------------------------------
  {
    op: 'health',
    test: js`
      ${statusTest(200)}
      pm.test('status ok', () => pm.expect(pm.response.json().status).to.eql('ok'));
    `,
    expect: 200,
  },
  {
    op: 'ready',
    test: js`
      ${statusTest(200)}
      pm.test('Postgres and Redis reachable', () => {
        const body = pm.response.json();
        pm.expect(body.status).to.eql('ok');
        pm.expect(body.checks).to.eql({ postgres: 'ok', redis: 'ok' });
      });
    `,
    expect: 200,
  },

  // --- Finish: deletes the chatroom, resets the password, signs out ------------------------------------------------
  {
    op: 'deleteChatroom',
    folder: FINISH_FOLDER,
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'getChatroom',
    key: 'getChatroom:deleted',
    folder: FINISH_FOLDER,
    name: 'The deleted chatroom is gone (404)',
    ...expectProblem(404, 'CHATROOM_NOT_FOUND', 'Chatroom not found.'),
  },
  {
    op: 'forgotPassword',
    folder: FINISH_FOLDER,
    note: 'Stores the password-reset OTP in `otp` for the next request.',
    body: { mobileNumber: '{{mobileNumber}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${otpChallengeTest}
    `,
    expect: 200,
  },
  {
    op: 'resetPassword',
    folder: FINISH_FOLDER,
    note: 'Sets `newPassword` with the reset OTP; every session is revoked.',
    body: { mobileNumber: '{{mobileNumber}}', otp: '{{otp}}', newPassword: '{{newPassword}}' },
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'getMe',
    key: 'getMe:revoked',
    folder: FINISH_FOLDER,
    name: 'The old access token no longer works (401)',
    note: 'The password reset revoked the session this access token belongs to.',
    ...expectProblem(401, 'SESSION_REVOKED', 'This session has been signed out or revoked; sign in again.'),
  },
  {
    op: 'login',
    key: 'login:newPassword',
    folder: FINISH_FOLDER,
    name: 'Sign in with the new password',
    body: { mobileNumber: '{{mobileNumber}}', password: '{{newPassword}}' },
    test: js`
      ${statusTest(200)}
      const body = pm.response.json();
      ${storeTokens}
    `,
    expect: 200,
  },
  {
    op: 'logout',
    folder: FINISH_FOLDER,
    note: 'Revokes `refreshToken` and its session.',
    body: { refreshToken: '{{refreshToken}}' },
    test: js`
      ${statusTest(204)}
      pm.test('no body', () => pm.expect(pm.response.text()).to.eql(''));
    `,
    expect: 204,
  },
  {
    op: 'refreshTokens',
    key: 'refreshTokens:afterLogout',
    folder: FINISH_FOLDER,
    name: 'A logged-out refresh token is refused (401)',
    body: { refreshToken: '{{refreshToken}}' },
    ...expectProblem(401, 'REFRESH_TOKEN_INVALID', 'The refresh token is invalid, expired or revoked; sign in again.'),
  },
];

const VARIABLES: PmVariable[] = [
  { key: 'baseUrl', value: DEFAULT_BASE_URL, description: 'The API, without a trailing slash.' },
  { key: 'mobileNumber', value: '', description: 'Set by "Register a mobile number" (a fresh number per run).' },
  { key: 'otp', value: '', description: 'The latest OTP from a response body (OTP_DELIVERY=response).' },
  { key: 'accessToken', value: '', description: 'Bearer token of the collection auth; set by every sign-in.' },
  { key: 'refreshToken', value: '', description: 'Set by every sign-in and refresh.' },
  { key: 'password', value: 'correct-horse-battery-1', description: 'The first password the run sets.' },
  { key: 'newPassword', value: 'correct-horse-battery-2', description: 'The password the reset sets.' },
  { key: 'chatroomId', value: '', description: 'Set by "Create a chatroom".' },
  { key: 'chatroomListEtag', value: '', description: 'ETag of the chatroom list, for If-None-Match.' },
  { key: 'messageId', value: '', description: 'The prompt stored by "Send a prompt".' },
  { key: 'replyId', value: '', description: 'The reply of the latest send or regenerate.' },
  {
    key: 'billingRequired',
    value: 'false',
    description: 'true: billing requests must succeed; otherwise 503 BILLING_NOT_CONFIGURED (no Stripe configured) is accepted.',
  },
];

/** Path parameters by name: the variable each one is filled from. */
const PATH_VARIABLES: Record<string, string> = { id: '{{chatroomId}}', messageId: '{{replyId}}' };

/** Runs after every request. */
const COLLECTION_TEST = js`
  // Every response carries a request id (echoed from X-Request-Id when the client sent one).
  pm.test('[every request] X-Request-Id header', () => pm.expect(pm.response.headers.get('X-Request-Id')).to.be.a('string').and.not.empty);
`;

// ---------------------------------------------------------------------------------------------------------------

interface OperationInfo {
  method: string;
  path: string;
  operation: Operation;
  opKey: string;
  isPublic: boolean;
}

function operationIndex(spec: Spec): Map<string, OperationInfo> {
  const byRoute = new Map<string, OperationInfo>();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'put', 'post', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
      const security = operation.security ?? spec.security ?? [];
      byRoute.set(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`, {
        method: method.toUpperCase(),
        path,
        operation,
        opKey: operation.operationId ?? `${method.toUpperCase()} ${path}`,
        isPublic: security.length === 0 || security.some((s) => Object.keys(s).length === 0),
      });
    }
  }
  return byRoute;
}

const routeOf = (request: PmRequest) => `${request.method.toUpperCase()} /${(request.url.path ?? []).join('/')}`;

function descriptionText(description: PmRequest['description']): string {
  if (!description) return '';
  return typeof description === 'string' ? description : description.content;
}

async function convert(spec: Spec): Promise<PmCollection> {
  const require = createRequire(import.meta.url);
  const restore = seedMathRandom(0x5eed);
  try {
    const converter = require('openapi-to-postmanv2') as Converter;
    const result = await new Promise<ConversionResult>((resolve, reject) =>
      converter.convert(
        { type: 'json', data: structuredClone(spec) },
        {
          folderStrategy: 'Tags',
          parametersResolution: 'Example',
          requestNameSource: 'Fallback',
          alwaysInheritAuthentication: true,
          includeAuthInfoInExample: false,
          enableOptionalParameters: false,
          indentCharacter: ' ',
        },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
    const collection = result.output?.find((o) => o.type === 'collection')?.data;
    if (!result.result || !collection) throw new Error(`openapi-to-postmanv2 failed: ${result.reason ?? 'no collection'}`);
    return collection;
  } finally {
    restore();
  }
}

/** Every request item of the converted collection (folders flattened), with the folder it came from. */
function flatten(items: PmItem[], folder: string | undefined, out: Array<{ item: PmItem; folder: string | undefined }> = []) {
  for (const item of items) {
    if (item.request) out.push({ item, folder });
    else if (item.item) flatten(item.item, item.name, out);
  }
  return out;
}

function applyScenario(item: PmItem, info: OperationInfo, scenario: Scenario | undefined, example: ReturnType<typeof makeExample>) {
  const request = item.request as PmRequest;
  const key = scenario?.key ?? info.opKey;
  item.id = stableId(`request:${key}`);
  if (scenario?.name) item.name = scenario.name;
  request.name = item.name;

  // Path variables from the run's state; query parameters and headers enabled as the scenario says.
  for (const variable of request.url.variable ?? []) {
    const fill = PATH_VARIABLES[variable.key];
    if (fill && (info.path.startsWith('/chatroom') || variable.key !== 'id')) variable.value = fill;
  }
  for (const [name, value] of Object.entries(scenario?.query ?? {})) {
    const param = request.url.query?.find((q) => q.key === name);
    if (param) Object.assign(param, { value, disabled: false });
    else (request.url.query ??= []).push({ key: name, value });
  }
  const headers = (request.header ??= []);
  for (const [name, value] of Object.entries(scenario?.headers ?? {})) {
    const header = headers.find((h) => h.key.toLowerCase() === name.toLowerCase());
    if (header) Object.assign(header, { value, disabled: false });
    else headers.push({ key: name, value });
  }
  // Bodies: the scenario's, or one built from the schema for routes without a scenario.
  const bodySchema = info.operation.requestBody?.content?.['application/json']?.schema;
  const body = scenario?.body ?? (bodySchema ? example(bodySchema, 'body') : undefined);
  if (body !== undefined) request.body = { mode: 'raw', raw: json(body), options: { raw: { language: 'json' } } };
  else delete request.body;
  if (!request.body) request.header = headers.filter((h) => h.key.toLowerCase() !== 'content-type');
  // Public routes send no token; protected ones inherit the collection's bearer auth.
  if (info.isPublic) request.auth = { type: 'noauth' };
  else delete request.auth;
  request.url.raw = `{{baseUrl}}/${(request.url.path ?? []).join('/')}`;

  const notes = [descriptionText(request.description), scenario?.note ? `**In this collection:** ${scenario.note}` : '']
    .filter(Boolean)
    .join('\n\n');
  request.description = { content: notes, type: 'text/markdown' };

  // Saved examples: the success answers and the one this request expects, with bodies built from the schemas.
  const responses = info.operation.responses ?? {};
  item.response = (item.response ?? [])
    // An extra request made to show one answer (a 404, a 401...) keeps only that one.
    .filter((r) => (scenario?.key ? r.code === scenario.expect : (r.code >= 200 && r.code < 400) || r.code === scenario?.expect))
    .filter((r, index, all) => all.findIndex((o) => o.code === r.code) === index)
    .map((response) => {
      const spec = responses[String(response.code)];
      const [contentType, media] = Object.entries(spec?.content ?? {})[0] ?? [];
      const schemaBody = media?.schema ? example(media.schema, `${key}:${response.code}`) : undefined;
      // A problem example shows the problem this request expects, shaped as the API sends it.
      const problem = response.code === scenario?.expect ? scenario.problem : undefined;
      const problemBody = problem
        ? {
            type: `urn:gemini-chat:problem:${problem.code.toLowerCase().replace(/_/g, '-')}`,
            title: STATUS_CODES[response.code] ?? 'Error',
            status: response.code,
            detail: problem.detail,
            code: problem.code,
            requestId: 'req-1',
          }
        : schemaBody;
      return {
        id: stableId(`response:${key}:${response.code}`),
        name: `${response.code} ${STATUS_CODES[response.code] ?? ''}`.trim(),
        originalRequest: { ...structuredClone(request), name: undefined, description: undefined },
        status: STATUS_CODES[response.code] ?? '',
        code: response.code,
        header: contentType ? [{ key: 'Content-Type', value: contentType }] : [],
        body: problemBody === undefined ? '' : typeof problemBody === 'string' ? problemBody : json(problemBody),
        cookie: [],
        _postman_previewlanguage: contentType?.includes('json') ? 'json' : 'text',
      } satisfies PmResponse;
    });

  const documented = Object.keys(responses).map(Number).filter(Number.isInteger);
  const test = scenario
    ? scenario.test
    : js`
        // No tailored scenario for this route yet (add one in scripts/gen-postman.ts): generic checks only.
        pm.test('status is one the spec documents for this route, not a 5xx', () => {
          pm.expect(${JSON.stringify(documented)}).to.include(pm.response.code);
          pm.expect(pm.response.code).to.be.below(500);
        });
        pm.test('errors are problem+json', () => {
          if (pm.response.code >= 400) pm.expect(pm.response.headers.get('Content-Type')).to.include('application/problem+json');
        });
      `;
  item.event = [
    ...(scenario?.prerequest
      ? [{ listen: 'prerequest' as const, script: { id: stableId(`prerequest:${key}`), type: 'text/javascript', exec: scenario.prerequest.split('\n') } }]
      : []),
    { listen: 'test', script: { id: stableId(`test:${key}`), type: 'text/javascript', exec: test.split('\n') } },
  ];
}

async function build(): Promise<{ collection: PmCollection; environment: unknown; unscripted: string[]; missing: string[] }> {
  const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
  const converted = await convert(spec);
  const index = operationIndex(spec);
  const example = makeExample(spec);

  // The converter's request items, by operation.
  const sources = new Map<string, { item: PmItem; folder: string }>();
  for (const { item, folder } of flatten(converted.item, undefined)) {
    const info = index.get(routeOf(item.request as PmRequest));
    if (!info) throw new Error(`converted request ${routeOf(item.request as PmRequest)} matches no operation in openapi.json`);
    sources.set(info.opKey, { item, folder: folder ?? info.operation.tags?.[0] ?? 'Other' });
  }
  const infoByKey = new Map([...index.values()].map((info) => [info.opKey, info]));

  // Folders in run order, scenarios first, then every operation no scenario covers.
  const folders = new Map<string, PmItem[]>();
  const folderOf = (name: string) => {
    let items = folders.get(name);
    if (!items) folders.set(name, (items = []));
    return items;
  };
  const missing: string[] = [];
  const covered = new Set<string>();
  for (const scenario of SCENARIOS) {
    const source = sources.get(scenario.op);
    const info = infoByKey.get(scenario.op);
    if (!source || !info) {
      missing.push(scenario.key ?? scenario.op);
      continue;
    }
    covered.add(scenario.op);
    const item = structuredClone(source.item);
    applyScenario(item, info, scenario, example);
    folderOf(scenario.folder ?? source.folder).push(item);
  }
  const unscripted: string[] = [];
  const lateDeletes: PmItem[] = [];
  for (const [opKey, source] of sources) {
    if (covered.has(opKey)) continue;
    const info = infoByKey.get(opKey) as OperationInfo;
    unscripted.push(`${info.method} ${info.path} (${opKey})`);
    const item = structuredClone(source.item);
    applyScenario(item, info, undefined, example);
    // A DELETE nobody wrote a scenario for could remove what later requests need (the account, say): run it last.
    if (info.method === 'DELETE') lateDeletes.push(item);
    else folderOf(source.folder).push(item);
  }
  if (lateDeletes.length > 0) folderOf(FINISH_FOLDER).push(...lateDeletes);

  const folderDescriptions = new Map(
    converted.item.filter((i) => i.item).map((i) => [i.name, descriptionText(i.description as PmRequest['description'])]),
  );
  folderDescriptions.set(
    FINISH_FOLDER,
    'Requests that end what the run built, so they come last: delete the chatroom, reset the password (revokes every session), sign in again, log out.',
  );
  const order = [
    ...FOLDER_ORDER.filter((name) => folders.has(name)),
    ...[...folders.keys()].filter((name) => !FOLDER_ORDER.includes(name) && name !== FINISH_FOLDER),
    ...(folders.has(FINISH_FOLDER) ? [FINISH_FOLDER] : []),
  ];

  const description = [
    descriptionText(converted.info.description as PmRequest['description']),
    'Generated from `openapi.json` by `scripts/gen-postman.ts`: do not edit by hand, regenerate.',
    'Run the whole collection in order (Postman\'s Collection Runner or `newman`): **Auth** signs up a fresh number, ' +
      'reads the OTP from the response (the API must run with `OTP_DELIVERY=response`, the default outside production) ' +
      'and stores the tokens in collection variables; every other request uses them through the collection\'s bearer ' +
      'auth (`{{accessToken}}`). The last folder deletes what the run created, resets the password and logs out.',
    'Set `baseUrl` (default `' + DEFAULT_BASE_URL + '`). Keep the other variables out of environments: an environment ' +
      'value would shadow the collection variables the scripts write.',
  ]
    .filter(Boolean)
    .join('\n\n');

  const collection: PmCollection = {
    info: {
      _postman_id: stableId('collection'),
      name: spec.info.title,
      description: { content: description, type: 'text/markdown' },
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    item: order.map((name) => ({
      id: stableId(`folder:${name}`),
      name,
      description: { content: folderDescriptions.get(name) ?? '', type: 'text/plain' },
      item: folders.get(name) ?? [],
    })),
    event: [{ listen: 'test', script: { id: stableId('collection:test'), type: 'text/javascript', exec: COLLECTION_TEST.split('\n') } }],
    variable: VARIABLES.map((v) => ({ key: v.key, value: v.value, type: 'string', description: v.description })),
    auth: { type: 'bearer', bearer: [{ key: 'token', value: '{{accessToken}}', type: 'string' }] },
  };
  const environment = {
    id: stableId('environment:local'),
    name: `${spec.info.title} (local)`,
    values: [{ key: 'baseUrl', value: DEFAULT_BASE_URL, type: 'default', enabled: true }],
    _postman_variable_scope: 'environment',
  };
  return { collection, environment, unscripted, missing };
}

const { collection, environment, unscripted, missing } = await build();
const files: Array<[string, string]> = [
  [COLLECTION_PATH, `${json(collection)}\n`],
  [ENVIRONMENT_PATH, `${json(environment)}\n`],
];
if (unscripted.length > 0) {
  console.warn(`gen-postman: ${unscripted.length} operation(s) without a scenario (generic status test only):`);
  for (const op of unscripted) console.warn(`  - ${op}`);
}
if (missing.length > 0) console.warn(`gen-postman: scenario(s) whose operation is not in openapi.json (skipped): ${missing.join(', ')}`);

if (process.argv.includes('--check')) {
  const stale = files.filter(([path, content]) => {
    try {
      return readFileSync(path, 'utf8') !== content;
    } catch {
      return true;
    }
  });
  for (const [path] of stale) console.error(`gen-postman: ${relative(ROOT, path)} is out of date: run tsx scripts/gen-postman.ts`);
  process.exit(stale.length > 0 ? 1 : 0);
}
mkdirSync(dirname(COLLECTION_PATH), { recursive: true });
for (const [path, content] of files) writeFileSync(path, content);
const requests = collection.item.reduce((n, folder) => n + (folder.item?.length ?? 0), 0);
console.log(`gen-postman: wrote ${relative(ROOT, COLLECTION_PATH)} (${requests} requests) and ${relative(ROOT, ENVIRONMENT_PATH)}`);
