import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, post, randomMobileNumber, signIn, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ BODY_LIMIT_BYTES: '2048' });
});
afterAll(() => t.close());

describe('problem responses', () => {
  it('lists every field problem of an invalid body', async () => {
    const res = await post(t.app, '/auth/signup', { email: 'not-an-email', password: 'short' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body).toMatchObject({ type: expect.stringContaining('validation-failed'), title: 'Bad Request', status: 400, requestId: expect.any(String) });
    const fields = body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['email', 'mobileNumber', 'password']);
    expect(body.errors.find((e: { field: string }) => e.field === 'mobileNumber').message).toBe('is required');
  });

  it('rejects unknown body fields instead of silently dropping them', async () => {
    const res = await post(t.app, '/auth/signup', { mobileNumber: randomMobileNumber(), tier: 'pro' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ in: 'body', field: 'tier', message: 'is not a known field' }]);
  });

  it('rejects unknown fields on protected routes too', async () => {
    const user = await signIn(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'x', userId: user.userId }, headers: user.auth });
    expectProblem(res, 400, 'VALIDATION_FAILED');
  });

  it('answers malformed JSON, oversized bodies and unknown routes with problems', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/auth/signup', payload: '{"mobileNumber":', headers: { 'content-type': 'application/json' } });
    expectProblem(bad, 400, 'INVALID_JSON');
    const big = await post(t.app, '/auth/signup', { mobileNumber: randomMobileNumber(), name: 'x'.repeat(5000) });
    expectProblem(big, 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await t.app.inject({ url: '/nope' }), 404, 'ROUTE_NOT_FOUND');
    const text = await t.app.inject({ method: 'POST', url: '/auth/signup', payload: 'hi', headers: { 'content-type': 'text/plain' } });
    expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('problems for requests refused before routing (BUG-9)', () => {
  it('answers a path with broken percent-encoding with a problem, echoing the request id', async () => {
    const res = await t.app.inject({ url: '/chatroom/%E0%A4', headers: { 'x-request-id': 'client-bad-url' } });
    const body = expectProblem(res, 400, 'BAD_REQUEST');
    expect(body).toMatchObject({ type: expect.stringContaining('bad-request'), title: 'Bad Request', status: 400, requestId: 'client-bad-url' });
    expect(res.headers['x-request-id']).toBe('client-bad-url');
  });

  it('answers a path parameter over the router limit as the invalid id it is (400 VALIDATION_FAILED), not 414', async () => {
    const user = await signIn(t.app);
    const res = await t.app.inject({ url: `/chatroom/${'a'.repeat(101)}/messages`, headers: user.auth });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ in: 'params', field: '', message: 'must NOT have more than 100 characters' }]);
    expect(res.headers['x-request-id']).toBe(body.requestId);
    // One character less reaches the route, whose params validation gives the same status and code.
    expectProblem(await t.app.inject({ url: `/chatroom/${'a'.repeat(100)}/messages`, headers: user.auth }), 400, 'VALIDATION_FAILED');
  });

  // Node's HTTP parser rejects these before Fastify sees a request (app.inject never parses), so they go over a
  // real socket: the problem is written on it raw and the connection is closed.
  it.each([
    { what: 'a header block over 16 kB', request: `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'x'.repeat(20_000)}\r\n\r\n`, status: 431, code: 'HEADERS_TOO_LARGE' },
    { what: 'a newline inside a header value', request: 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
    { what: 'a space in a header name', request: 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
    { what: 'a malformed request line', request: 'HELLO\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
    { what: 'a non-numeric Content-Length', request: 'POST /auth/signup HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', status: 400, code: 'BAD_REQUEST' },
  ])('answers $what with a $status problem and closes the connection', async ({ request, status, code }) => {
    const answer = await rawExchange(await listening(), [request]);
    expectRawProblem(answer, status, code);
  });

  it('also on a kept-alive connection that already served a request', async () => {
    const answer = await rawExchange(await listening(), [
      'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'x'.repeat(20_000)}\r\n\r\n`,
    ]);
    expect(answer.text.startsWith('HTTP/1.1 200 ')).toBe(true);
    expectRawProblem(answer, 431, 'HEADERS_TOO_LARGE');
  });
});

let base: string | undefined;
/** The app on a loopback port (once): parser-level errors need a real socket. */
async function listening(): Promise<number> {
  base ??= await t.app.listen({ port: 0, host: '127.0.0.1' });
  return Number(new URL(base).port);
}

/**
 * Writes each request once the previous answer has arrived (a `}` closing the body of /health is enough), then
 * reads until the server closes the connection. Fails after 5 s: an answer that never comes is a finding.
 */
function rawExchange(port: number, requests: string[]): Promise<{ text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    const next = () => socket.write(requests[sent++]!);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 5 s; got ${text.slice(0, 200)}`));
    }, 5000);
    socket.on('connect', next);
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
      if (sent < requests.length && text.endsWith('}')) next();
    });
    socket.on('error', () => {}); // a reset after the answer is fine: the text read so far is what counts
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text });
    });
  });
}

/** The last answer on the connection is the given problem, with its request id in the header and the body. */
function expectRawProblem({ text }: { text: string }, status: number, code: string) {
  const last = text.slice([...text.matchAll(/HTTP\/1\.1 \d{3} /g)].at(-1)?.index ?? 0);
  const [head = '', payload = ''] = last.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  expect(statusLine).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
  expect(headers).toMatchObject({ 'content-type': 'application/problem+json', connection: 'close', 'content-length': String(Buffer.byteLength(payload)) });
  const body = JSON.parse(payload);
  expect(body).toEqual({ type: expect.stringMatching(/^urn:gemini-chat:problem:/), title: expect.any(String), status, detail: expect.any(String), code, requestId: headers['x-request-id'] });
  expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
}

describe('request ids', () => {
  it('echoes a client X-Request-Id in the header and in problems', async () => {
    const res = await t.app.inject({ url: '/nope', headers: { 'x-request-id': 'client-abc.123' } });
    expect(res.headers['x-request-id']).toBe('client-abc.123');
    expect(res.json().requestId).toBe('client-abc.123');
  });

  it('mints a UUID when none (or an unsafe one) is sent', async () => {
    const plain = await t.app.inject({ url: '/health' });
    expect(plain.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id with spaces\n' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('operations and contract', () => {
  it('health and readiness', async () => {
    expect((await t.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/ready' })).json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('serves Swagger UI and an OpenAPI document with every route, an operationId and tags', async () => {
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { operationId?: string; tags?: string[] }>).map(([method, op]) => ({ path, method, ...op })),
    );
    const routes = operations.map((o) => `${o.method.toUpperCase()} ${o.path}`);
    for (const expected of [
      'POST /auth/signup', 'POST /auth/send-otp', 'POST /auth/verify-otp', 'POST /auth/forgot-password', 'POST /auth/reset-password',
      'POST /auth/change-password', 'POST /auth/login', 'POST /auth/refresh', 'POST /auth/logout', 'GET /user/me', 'PATCH /user/me',
      'POST /chatroom', 'GET /chatroom', 'GET /chatroom/{id}', 'PATCH /chatroom/{id}', 'DELETE /chatroom/{id}', 'GET /health', 'GET /ready',
    ]) {
      expect(routes).toContain(expected);
    }
    for (const op of operations) {
      expect(op.operationId, `${op.method} ${op.path}`).toBeTruthy();
      expect(op.tags?.length, `${op.method} ${op.path}`).toBeGreaterThan(0);
    }
  });

  it('the committed openapi.json is exactly what the app serves (modulo key order)', async () => {
    const served = (await t.app.inject({ url: '/openapi.json' })).json();
    const committed = JSON.parse(readFileSync(new URL('../../../../openapi.json', import.meta.url), 'utf8'));
    // The served spec names this instance's URL; the committed one a fixed local URL.
    expect({ ...served, servers: committed.servers }).toEqual(committed);
  });
});
