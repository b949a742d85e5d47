// What every request gets from the API's own hooks and plugins (request id, CORS, the duration metric, the API-key
// refusal), pinned exactly, so the per-request path can be made cheaper without changing what a client or an
// operator sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
let user: SignedIn;
beforeAll(async () => {
  t = await buildTestApp({ CORS_ORIGINS: 'https://app.example' });
  user = await signIn(t.app);
});
afterAll(() => t.close());

const EXPOSED =
  'x-request-id, etag, retry-after, ratelimit-limit, ratelimit-remaining, ratelimit-reset, location, content-disposition, content-range, accept-ranges';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The headers the hooks add, without the ones every response has (date, length, keep-alive). */
function hookHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const { date: _date, 'content-length': _length, connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

describe('headers on every response', () => {
  it('GET /health without an Origin: a minted request id, Vary and the exposed headers, nothing else', async () => {
    const res = await t.app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"status":"ok"}');
    const { 'x-request-id': requestId, ...rest } = hookHeaders(res.headers);
    expect(requestId).toMatch(UUID);
    expect(rest).toEqual({
      vary: 'Origin',
      'access-control-expose-headers': EXPOSED,
      'content-type': 'application/json; charset=utf-8',
    });
  });

  it('GET /health from an allowed origin echoes it and the client\'s request id', async () => {
    const res = await t.app.inject({ url: '/health', headers: { origin: 'https://app.example', 'x-request-id': 'probe-1' } });
    expect(hookHeaders(res.headers)).toEqual({
      'x-request-id': 'probe-1',
      vary: 'Origin',
      'access-control-allow-origin': 'https://app.example',
      'access-control-expose-headers': EXPOSED,
      'content-type': 'application/json; charset=utf-8',
    });
  });

  it('GET /health from another origin gets no Allow-Origin', async () => {
    const res = await t.app.inject({ url: '/health', headers: { origin: 'https://elsewhere.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.headers.vary).toBe('Origin');
  });

  it('the cached list: ETag, Cache-Control and the same CORS headers; 304 on a match', async () => {
    const res = await t.app.inject({ url: '/chatroom', headers: user.auth });
    expect(res.statusCode).toBe(200);
    const { 'x-request-id': requestId, etag, ...rest } = hookHeaders(res.headers);
    expect(requestId).toMatch(UUID);
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(rest).toEqual({
      vary: 'Origin',
      'access-control-expose-headers': EXPOSED,
      'cache-control': 'private, no-cache',
      'content-type': 'application/json; charset=utf-8',
    });
    const again = await t.app.inject({ url: '/chatroom', headers: { ...user.auth, 'if-none-match': String(etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.headers.etag).toBe(etag);
  });

  it('an API key on a route that does not accept one is refused before anything else runs', async () => {
    const res = await t.app.inject({ url: '/health', headers: { authorization: 'Bearer gck_not-a-real-key' } });
    expectProblem(res, 403, 'API_KEY_NOT_ALLOWED');
    expect(res.headers['x-request-id']).toMatch(UUID);
  });
});

describe('the request duration metric', () => {
  it('counts each request under its route template, method and status; unknown paths as "unmatched"', async () => {
    const count = async (labels: string) => {
      const text = (await t.app.inject({ url: '/metrics' })).body;
      const line = text.split('\n').find((l) => l.startsWith(`http_request_duration_seconds_count{${labels}}`));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };
    const health = 'method="GET",route="/health",status_code="200"';
    const unmatched = 'method="GET",route="unmatched",status_code="404"';
    const [healthBefore, unmatchedBefore] = [await count(health), await count(unmatched)];
    await t.app.inject({ url: '/health' });
    await t.app.inject({ url: '/health' });
    await t.app.inject({ url: '/no-such-path' });
    expect(await count(health)).toBe(healthBefore + 2);
    expect(await count(unmatched)).toBe(unmatchedBefore + 1);
    const text = (await t.app.inject({ url: '/metrics' })).body;
    expect(text).toContain(`http_request_duration_seconds_bucket{le="+Inf",${health}} ${healthBefore + 2}`);
  });
});
