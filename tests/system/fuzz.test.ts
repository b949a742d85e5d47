// Property-based requests built from the committed openapi.json against every operation, as a signed-in user:
// path parameters, query, headers and bodies, valid-ish and hostile (wrong types, huge and unicode strings, extra
// and missing fields, malformed JSON, wrong content types, bad tokens, broken percent-encoding, path parameters and
// headers past the router's and Node's limits). Whatever is sent, the API must answer
// (no hang), never with a 5xx, with a status the contract declares for that operation and a body that validates
// against the schema declared for that status; problems are application/problem+json and carry the request id.
// Bounded and reproducible: 40 runs per operation from a fixed seed (printed); override with FUZZ_SEED / FUZZ_RUNS.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '@gemini-chat/fakes';
import { craftJwt, http, signInOver, startStack, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '@gemini-chat/worker/worker';
import { bodyArb, headerSafe, headerValue, hostileString, loadSpec, operationsOf, responseValidator, validish, type Operation, type Schema } from './support/openapi.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const spec = loadSpec();
// Each operation keeps its seed (SEED + its position in the contract) when FUZZ_ONLY="GET /chatroom/{id},..." picks some.
const operations = operationsOf(spec)
  .map((op, index) => ({ op, index, name: `${op.method} ${op.path}` }))
  .filter(({ name }) => !process.env.FUZZ_ONLY || process.env.FUZZ_ONLY.split(',').includes(name));
const validator = responseValidator(spec);

/** Statuses seen per operation, printed at the end: shows how deep the generated requests went. */
const seen = new Map<string, Map<number, number>>();
let s: Stack;
let stripe: FakeStripe | undefined;
let base: string;

beforeAll(async () => {
  console.log(`[fuzz] seed ${SEED}, ${RUNS} runs per operation, ${operations.length} operations (FUZZ_SEED=${SEED} to replay)`);
  // With billing in the contract, give the app a (fake) Stripe, so billing routes work instead of answering 503.
  const billing = operations.some(({ op }) => /^\/(subscribe|subscription|webhook)\b/.test(op.path));
  stripe = billing ? await startFakeStripe({ webhookSecret: 'whsec_fuzz' }) : undefined;
  s = await startStack({
    QUOTA_BASIC_DAILY: '0',
    PREFER_WAIT_MAX_SECONDS: '1',
    ...(stripe ? { STRIPE_SECRET_KEY: 'sk_test_fuzz', STRIPE_WEBHOOK_SECRET: 'whsec_fuzz', STRIPE_API_BASE_URL: stripe.url } : {}),
  }, { startWorker });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  const summary = [...seen].map(([name, statuses]) => `${name}: ${[...statuses].sort(([a], [b]) => a - b).map(([st, n]) => `${st}×${n}`).join(' ')}`);
  console.log(`[fuzz] statuses per operation:\n  ${summary.join('\n  ')}`);
  await s?.close();
  await stripe?.close();
});

interface Fixture {
  user: SignedIn;
  chatroomId: string;
  replyId: string;
  userMessageId: string;
}

/** A user of its own per operation, with a chatroom holding one finished exchange. */
async function fixture(): Promise<Fixture> {
  const user = await signInOver(base);
  const chatroomId = ((await http(base, 'POST', '/chatroom', { headers: user.auth, body: { title: 'fuzz' } })).json() as { id: string }).id;
  const sent = await http(base, 'POST', `/chatroom/${chatroomId}/message`, { headers: { ...user.auth, prefer: 'wait=1' }, body: { content: 'hello' } });
  const body = sent.json() as { reply: { id: string }; userMessage: { id: string } };
  return { user, chatroomId, replyId: body.reply.id, userMessageId: body.userMessage.id };
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  shape: string;
}

const cursor = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A path value as a client's encoder sends it; a URL carries only well-formed text, so lone surrogates become U+FFFD. */
const encodePathValue = (value: string) =>
  encodeURIComponent(value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')).replace(/\./g, '%2E');
/** Percent-encoding no decoder accepts: cut short, not hex, not UTF-8 (overlong, a surrogate, a lone 0xFF). */
const BROKEN_PERCENT_ENCODING = fc.constantFrom('%', 'a%2', '%zz', '%E0%A4', '%C0%AF', '%ED%A0%80', '%FF');

function requestArb(op: Operation, fx: Fixture): fc.Arbitrary<FuzzRequest> {
  const hints = {
    known: {
      id: [fx.chatroomId],
      messageId: [fx.replyId, fx.userMessageId],
      mobileNumber: [fx.user.mobileNumber],
      refreshToken: [fx.user.refreshToken],
      // Crafted cursors, inside and outside bigint and timestamp range.
      cursor: [
        cursor({ s: '12' }),
        cursor({ s: '9223372036854775807' }),
        cursor({ s: '9999999999999999999' }),
        cursor({ s: '-1' }),
        cursor({ t: '2026-01-01T00:00:00.000Z', id: fx.chatroomId }),
        cursor({ t: '-271821-04-20T00:00:00.000Z', id: fx.chatroomId }),
        cursor({ t: '+275760-09-13T00:00:00.000Z', id: fx.chatroomId }),
        cursor({ t: 'x' }),
      ],
      // Resume points before any live event (ids after the terminal one hang: BUG-3).
      lastEventId: ['0', '0-1', '0-2', '1-0'],
      'last-event-id': ['0', '0-1', '0-2', '1-0'],
    },
  };
  const param = (where: string) => op.parameters.filter((p) => p.in === where);
  // Any length: hostile strings run past the router's 100-character parameter limit and past 16 kB of request line.
  // Never empty: `/chatroom/` is `/chatroom` (a trailing slash is ignored), another operation, not this one.
  const pathValue = (schema: Schema, name: string) =>
    fc
      .oneof(
        { weight: 6, arbitrary: validish(spec, schema, name, hints).map((v) => encodePathValue(String(v))) },
        { weight: 2, arbitrary: hostileString().map(encodePathValue) },
        { weight: 1, arbitrary: fc.constantFrom(' ', '0', 'null').map(encodePathValue) },
        { weight: 1, arbitrary: BROKEN_PERCENT_ENCODING },
      )
      .filter((value) => value !== '');
  const pathArb = fc.record(Object.fromEntries(param('path').map((p) => [p.name, pathValue(p.schema, p.name)])));
  // Declared parameters are sent four times out of five; an unknown one once in ten requests.
  const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 5 });
  const queryArb = fc.record({
    ...Object.fromEntries(param('query').map((p) => [p.name, optional(headerValue(validish(spec, p.schema, p.name, hints)).map((v) => v.slice(0, 2000)))])),
    unknownParam: fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('1', 'x') }),
  });
  const headerArb = fc.record(Object.fromEntries(param('header').map((p) => [p.name, optional(headerValue(validish(spec, p.schema, p.name, hints)))])));
  const authArb = fc.oneof(
    { weight: 8, arbitrary: fc.constant(fx.user.auth.authorization) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.oneof(
        hostileString().map((t) => `Bearer ${t}`),
        fc.constantFrom(
          'Bearer',
          `Basic ${Buffer.from('a:b').toString('base64')}`,
          fx.user.accessToken,
          `Bearer ${craftJwt({ sub: fx.user.userId, sid: fx.user.userId }, 'x'.repeat(40))}`,
          `Bearer ${craftJwt({ sub: fx.user.userId }, '', 'none')}`,
        ),
      ),
    },
  );
  const contentTypeArb = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/JSON', 'application/json; charset=utf-16', '*/*', 'multipart/form-data; boundary=x') },
  );
  const bodyPart = op.body ? fc.tuple(bodyArb(spec, op.body, hints), contentTypeArb) : fc.constant(undefined);
  return fc.record({ path: pathArb, query: queryArb, headers: headerArb, auth: authArb, body: bodyPart }).map((r) => {
    let path = op.path;
    for (const [name, value] of Object.entries(r.path)) path = path.replace(`{${name}}`, value);
    const query = new URLSearchParams(Object.entries(r.query as Record<string, string | undefined>).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    const headers = Object.fromEntries(Object.entries(r.headers).filter((e): e is [string, string] => e[1] !== undefined));
    if (r.auth !== undefined) headers.authorization = headerSafe(r.auth);
    let body: string | undefined;
    let shape = 'no body';
    if (r.body) {
      const [{ kind, text }, contentType] = r.body;
      body = text;
      shape = `${kind} as ${contentType}`;
      if (text !== undefined) headers['content-type'] = contentType;
    }
    const request: FuzzRequest = { method: op.method, url: `${path}${query ? `?${query}` : ''}`, headers, body, shape };
    // Counterexamples print short: fast-check shows this instead of the full (possibly 60 kB) request.
    Object.defineProperty(request, fc.toStringMethod, { value: () => describeRequest(request), enumerable: false });
    return request;
  });
}

const short = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);
const describeRequest = (req: FuzzRequest) =>
  `${req.method} ${short(req.url)} [${req.shape}] headers=${short(JSON.stringify(req.headers), 400)} body=${short(String(req.body), 400)}`;

/** Everything wrong with one exchange, judged against the contract ([] when it is right). */
function judge(op: Operation, status: number, headers: Headers, text: string): string[] {
  if (status === 0) return [`no answer (hang, dropped connection or refused request): ${text}`];
  const found: string[] = [];
  if (status >= 500) found.push(`server error ${status}: ${text.slice(0, 300)}`);
  const contentType = (headers.get('content-type') ?? '').split(';')[0]!.trim();
  const declared = op.responses[String(status)];
  if (!declared) return [...found, `status ${status} is not declared for ${op.operationId}: ${text.slice(0, 200)}`];
  const content = declared.content;
  if (!content) {
    if (text !== '') found.push(`${status} declares no body but got ${text.slice(0, 100)}`);
    return found;
  }
  // Every error is a problem document (PRODUCT.md), whatever the contract says.
  if (status >= 400 && contentType !== 'application/problem+json') found.push(`problem with content-type ${contentType}: ${text.slice(0, 200)}`);
  const media = content[contentType];
  if (!media) return [...found, `${status} answered ${contentType}; the contract declares ${Object.keys(content).join(', ')}`];
  // Streams, downloads (file content, Markdown exports) and the share page: the declared media type is the contract.
  if (!/^application\/([\w.-]+\+)?json$/.test(contentType)) return found;

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [...found, `body is not JSON: ${text.slice(0, 200)}`];
  }
  if (status >= 400) {
    const problem = body as { status?: number; requestId?: string; code?: string };
    if (problem.status !== status) found.push(`problem.status ${problem.status} on a ${status}`);
    if (problem.requestId !== headers.get('x-request-id')) found.push('problem.requestId differs from X-Request-Id');
  }
  const invalid = validator.check(`${op.operationId} ${status} ${contentType}`, media.schema, body);
  if (invalid.length) found.push(`body does not match the ${status} schema: ${invalid.join('; ')} in ${text.slice(0, 300)}`);
  return found;
}

describe.each(operations)('fuzz $name', ({ op, index, name }) => {
  it('answers every generated request within the contract (no 5xx, declared status, valid body)', async () => {
    const fx = await fixture();
    await fc.assert(
      fc.asyncProperty(requestArb(op, fx), async (req) => {
        const started = performance.now();
        let status = 0;
        let headers = new Headers();
        let text = '';
        try {
          const res = await fetch(`${base}${req.url}`, { method: req.method, headers: req.headers, body: req.body, signal: AbortSignal.timeout(10_000) });
          status = res.status;
          headers = res.headers;
          text = await res.text();
        } catch (err) {
          status = 0;
          text = `${(err as Error).name}: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}`;
        }
        const counts = seen.get(name) ?? new Map<number, number>();
        seen.set(name, counts.set(status, (counts.get(status) ?? 0) + 1));
        const problems = judge(op, status, headers, text);
        if (problems.length) {
          throw new Error(`${describeRequest(req)} → ${status} in ${Math.round(performance.now() - started)} ms\n- ${problems.join('\n- ')}`);
        }
      }),
      { seed: SEED + index, numRuns: RUNS, endOnFailure: true },
    );
  }, 40_000);
});

describe('fuzz findings, fixed: pinned here as well as generated above', () => {
  // Also fixed and generated again above: BUG-6 (NUL in text), BUG-7/8 (out-of-range cursors) answered 500; BUG-11
  // (query problems said in: "querystring").
  // BUG-9: errors Fastify raises before routing were its default {"error","code","message","statusCode"} as
  // application/json: broken percent-encoding in the path (400), a path parameter over 100 characters (414,
  // undeclared), a header block over 16 kB (431, undeclared). The generators now produce all three at random; this
  // sends one of each to every operation. (What fetch cannot send, such as a header with a newline, is covered
  // over a raw socket in packages/api/test/app/errors.test.ts.)
  it('BUG-9: malformed URLs, over-long path parameters and over-large headers get declared problem+json answers', async () => {
    const found: string[] = [];
    for (const { op, name } of operations) {
      const withParams = (value: string) => op.path.replace(/\{\w+\}/g, value);
      const cases: Array<{ what: string; url: string; headers?: Record<string, string>; expected: number }> = [
        { what: 'a 20 kB header', url: withParams(randomUUID()), headers: { 'x-padding': 'x'.repeat(20_000) }, expected: 431 },
      ];
      if (op.path.includes('{')) {
        // The public share link answers every id it does not serve alike (404), so ids cannot be probed by their shape.
        const overLong = op.path === '/s/{shareId}' ? 404 : 400;
        cases.push({ what: 'a 101-character path parameter', url: withParams('a'.repeat(101)), expected: overLong });
        cases.push({ what: 'broken percent-encoding', url: withParams('%E0%A4'), expected: 400 });
      }
      for (const { what, url, headers, expected } of cases) {
        const res = await http(base, op.method, url, { headers });
        const wrong = judge(op, res.status, res.headers, res.error ?? res.text);
        if (res.status !== expected) wrong.push(`expected ${expected}`);
        if (wrong.length) found.push(`${name} with ${what} → ${res.status}: ${wrong.join('; ')}`);
      }
    }
    expect(found).toEqual([]);
  });

  // BUG-10: 413 and 415, which every JSON-body route answers from Fastify's body parser, were declared by the
  // webhook only. The fuzz above now requires every status it sees to be declared.
  it('BUG-10: every operation that takes a body declares 413 and 415 problems in openapi.json', () => {
    const bodyOperations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([, op]) => op.requestBody)
        .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, responses: op.responses as Operation['responses'] })),
    );
    expect(bodyOperations.length).toBeGreaterThan(0);
    const missing = bodyOperations.flatMap(({ name, responses }) =>
      ['413', '415'].filter((status) => !responses[status]?.content?.['application/problem+json']).map((status) => `${name} ${status}`),
    );
    expect(missing).toEqual([]);
  });
});
