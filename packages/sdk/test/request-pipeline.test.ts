import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  APIConnectionError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  createClient,
  GeminiChatError,
  InternalServerError,
  isGeminiChatError,
  memoryTokenStore,
  NotFoundError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  ServiceUnavailableError,
  UnprocessableEntityError,
  type ClientOptions,
  type ReplyEvent,
} from '../src/index.js';

// The request pipeline (timeouts, retries, options, metadata, errors) against a tiny local server whose answers each
// test scripts: fail N times, then pass. Statuses the live API cannot be made to send on demand (503, 408, a cut
// connection) are answered here; the live API covers the rest (namespaces.test.ts).

const ROOM = '11111111-1111-4111-8111-111111111111';
const REPLY = '22222222-2222-4222-8222-222222222222';

type Handler = (req: IncomingMessage, res: ServerResponse, attempt: number) => void;
interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  at: number;
}

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, path: req.url!, headers: req.headers, at: Date.now() });
    req.resume();
    req.on('end', () => handler(req, res, seen.length));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
});

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) => ({
  type: 'about:blank',
  title: 'x',
  status,
  code,
  detail: `${code} happened`,
  requestId: 'req-1',
  ...extra,
});
/** Answers `failure` the first `times` requests, then `ok`. */
const failThenPass =
  (times: number, failure: (res: ServerResponse) => void, ok: unknown = { id: ROOM, title: 'ok' }): Handler =>
  (_req, res, attempt) => {
    if (attempt <= times) failure(res);
    else json(res, 200, ok, { 'x-request-id': `req-${attempt}` });
  };
const client = (options: Partial<ClientOptions> = {}) =>
  createClient({ baseUrl, tokenStore: memoryTokenStore({ accessToken: 'a', refreshToken: 'r' }), ...options });
const sendResult = { userMessage: { id: 'p', role: 'user' }, reply: { id: 'r', role: 'assistant', status: 'queued' }, quota: {}, links: {} };

describe('retries', () => {
  it('retries a GET on 503 with Retry-After, waiting as long as asked, then succeeds', async () => {
    handler = failThenPass(2, (res) => json(res, 503, problem(503, 'SERVICE_UNAVAILABLE'), { 'retry-after': '1' }));
    const started = Date.now();
    expect(await client().chatrooms.get(ROOM)).toEqual({ id: ROOM, title: 'ok' });
    expect(seen).toHaveLength(3);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('retries 408, 429 RATE_LIMITED and 500 with backoff; gives up after maxRetries with the last error', async () => {
    handler = failThenPass(1, (res) => json(res, 408, problem(408, 'REQUEST_TIMEOUT')));
    await client().chatrooms.get(ROOM);
    expect(seen).toHaveLength(2);

    seen = [];
    handler = failThenPass(1, (res) => json(res, 429, problem(429, 'RATE_LIMITED', { retryAfterSeconds: 0 })));
    await client().user.get();
    expect(seen).toHaveLength(2);

    seen = [];
    handler = failThenPass(9, (res) => json(res, 500, problem(500, 'INTERNAL_ERROR')));
    const err = await client({ maxRetries: 1 }).chatrooms.get(ROOM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(seen).toHaveLength(2);
    // Backoff: about half a second before the first retry (less up to a quarter of jitter).
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(350);
  });

  it('never retries QUOTA_EXCEEDED (its Retry-After is hours), nor a Retry-After beyond a minute', async () => {
    handler = failThenPass(9, (res) => json(res, 429, problem(429, 'QUOTA_EXCEEDED', { retryAfterSeconds: 7200 }), { 'retry-after': '7200' }));
    const quota = await client().messages.send(ROOM, { content: 'hi' }).catch((e: unknown) => e);
    expect(quota).toBeInstanceOf(QuotaExceededError);
    expect(quota).toBeInstanceOf(RateLimitError);
    expect(quota).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED', retryAfterSeconds: 7200 });
    const resetsIn = (quota as QuotaExceededError).resetsAt!.getTime() - Date.now();
    expect(resetsIn).toBeGreaterThan(7190_000);
    expect(seen).toHaveLength(1);

    seen = [];
    handler = failThenPass(9, (res) => json(res, 503, problem(503, 'SERVICE_UNAVAILABLE'), { 'retry-after': '600' }));
    expect(await client().chatrooms.get(ROOM).catch((e: unknown) => e)).toBeInstanceOf(ServiceUnavailableError);
    expect(seen).toHaveLength(1);
  });

  it('retries sends only with an Idempotency-Key: generated by default, the same on every attempt', async () => {
    handler = failThenPass(2, (res) => json(res, 502, problem(502, 'BAD_GATEWAY')), sendResult);
    const result = await client().messages.send(ROOM, { content: 'hi' });
    expect(result.prompt).toEqual(result.userMessage);
    expect(seen).toHaveLength(3);
    const keys = seen.map((s) => s.headers['idempotency-key']);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(keys).size).toBe(1);

    // The caller's own key, and 409 IDEMPOTENCY_KEY_IN_USE (the first attempt still running) is waited out.
    seen = [];
    handler = failThenPass(1, (res) => json(res, 409, problem(409, 'IDEMPOTENCY_KEY_IN_USE', { retryAfterSeconds: 0 })), sendResult);
    await client().messages.regenerate(ROOM, REPLY, {}, { idempotencyKey: 'mine-1' });
    expect(seen.map((s) => s.headers['idempotency-key'])).toEqual(['mine-1', 'mine-1']);

    // idempotencyKey: false sends none and is never retried, whatever the failure.
    seen = [];
    handler = failThenPass(9, (res) => json(res, 503, problem(503, 'SERVICE_UNAVAILABLE'), { 'retry-after': '0' }));
    const err = await client().messages.send(ROOM, { content: 'hi' }, { idempotencyKey: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['idempotency-key']).toBeUndefined();

    // Other POSTs carry no key and are not retried either.
    seen = [];
    await client().chatrooms.create({ title: 'x' }).catch(() => undefined);
    expect(seen).toHaveLength(1);
  });

  it('retries 409 CHATROOM_BUSY only when asked to', async () => {
    handler = failThenPass(1, (res) => json(res, 409, problem(409, 'CHATROOM_BUSY', { retryAfterSeconds: 0 })), sendResult);
    expect(await client().messages.send(ROOM, { content: 'hi' }).catch((e: unknown) => e)).toBeInstanceOf(ConflictError);
    expect(seen).toHaveLength(1);
    seen = [];
    expect((await client().messages.send(ROOM, { content: 'hi' }, { retryBusy: true })).reply.id).toBe('r');
    expect(seen).toHaveLength(2);
  });

  it('retries a dropped connection, then reports an APIConnectionError; maxRetries 0 turns retries off', async () => {
    handler = (_req, res) => res.socket?.destroy();
    const err = await client({ maxRetries: 1 }).files.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).toMatchObject({ code: 'CONNECTION_ERROR', status: 0, cause: expect.any(TypeError) });
    expect(isGeminiChatError(err)).toBe(true);
    expect(seen).toHaveLength(2);

    seen = [];
    await client().files.list({}, { maxRetries: 0 }).catch(() => undefined);
    expect(seen).toHaveLength(1);
  });
});

describe('timeouts and signals', () => {
  const slow = (ms: number): Handler => (_req, res) => {
    const timer = setTimeout(() => json(res, 200, { id: ROOM }), ms);
    res.on('close', () => clearTimeout(timer));
  };

  it('aborts an attempt after `timeout` and retries it like a connection failure where that is safe', async () => {
    handler = slow(2_000);
    const started = Date.now();
    const err = await client({ timeout: 150, maxRetries: 1 }).chatrooms.get(ROOM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APITimeoutError);
    expect(err).toBeInstanceOf(APIConnectionError);
    expect(err).toMatchObject({ code: 'TIMEOUT', status: 0 });
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(1_500);

    // A per-call timeout over the client's; a POST without a key times out once.
    seen = [];
    handler = slow(300);
    expect(await client({ timeout: 50 }).chatrooms.get(ROOM, { timeout: 2_000 })).toEqual({ id: ROOM });
    seen = [];
    expect(await client({ timeout: 100 }).chatrooms.create({}).catch((e: unknown) => e)).toBeInstanceOf(APITimeoutError);
    expect(seen).toHaveLength(1);
  });

  it("stops at once when the caller's signal aborts, and never retries after it", async () => {
    handler = slow(2_000);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    await expect(client().chatrooms.get(ROOM, { signal: stop.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(1);

    // Aborted while waiting to retry: no further attempt.
    seen = [];
    handler = failThenPass(9, (res) => json(res, 503, problem(503, 'SERVICE_UNAVAILABLE'), { 'retry-after': '5' }));
    const later = new AbortController();
    setTimeout(() => later.abort(), 200);
    await expect(client().chatrooms.get(ROOM, { signal: later.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toHaveLength(1);

    // Already aborted: nothing is sent.
    seen = [];
    await expect(client().chatrooms.get(ROOM, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(0);
  });

  it('reconnects a reply stream that goes silent for `timeout`, resuming after the last event', async () => {
    const sse = (id: string, event: string, data: unknown) => `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    handler = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (!req.headers['last-event-id']) {
        res.write(sse('1-0', 'delta', { text: 'Hi ' })); // then silence
        return;
      }
      res.end(sse('2-0', 'delta', { text: 'there' }) + sse('3-0', 'done', { id: REPLY, status: 'completed' }));
    };
    const events: ReplyEvent[] = [];
    for await (const event of client().replies.stream(ROOM, REPLY, { timeout: 200, retryDelayMs: 10 })) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['delta', 'delta', 'done']);
    expect(seen.map((s) => s.headers['last-event-id'])).toEqual([undefined, '1-0']);

    // Keep-alive comments are not silence: a reply slower than `timeout` in total stays on one connection.
    seen = [];
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const ping = setInterval(() => res.write(': keep-alive\n\n'), 50);
      setTimeout(() => {
        clearInterval(ping);
        res.end(sse('1-0', 'delta', { text: 'late' }) + sse('2-0', 'done', { id: REPLY, status: 'completed' }));
      }, 500);
    };
    const late: ReplyEvent[] = [];
    for await (const event of client().replies.stream(ROOM, REPLY, { timeout: 200, retryDelayMs: 10 })) late.push(event);
    expect(late.map((e) => e.type)).toEqual(['delta', 'done']);
    expect(seen).toHaveLength(1);
  });
});

describe('options and metadata', () => {
  it('sends the client headers and each call its own', async () => {
    handler = failThenPass(0, () => undefined);
    await client({ headers: { 'x-client': 'tests/1' } }).chatrooms.get(ROOM, { headers: { 'x-trace': 't-1' } });
    expect(seen[0]!.headers).toMatchObject({ 'x-client': 'tests/1', 'x-trace': 't-1', authorization: 'Bearer a' });
  });

  it('gives the response, request id and RateLimit values with withResponse(), the Response with asResponse()', async () => {
    handler = (_req, res) =>
      json(res, 202, sendResult, { 'x-request-id': 'req-42', 'ratelimit-limit': '5', 'ratelimit-remaining': '3', 'ratelimit-reset': '3600' });
    const { data, response, status, headers, requestId, rateLimit } = await client().messages.send(ROOM, { content: 'hi' }).withResponse();
    expect(data.reply.id).toBe('r');
    expect([status, response.status, headers.get('x-request-id'), requestId]).toEqual([202, 202, 'req-42', 'req-42']);
    expect(rateLimit).toEqual({ limit: 5, remaining: 3, reset: 3600 });
    expect((await client().chatrooms.get(ROOM).asResponse()).status).toBe(202);
    expect((await client().chatrooms.get(ROOM).withResponse()).rateLimit.limit).toBe(5);
  });

  it('refuses a wait above 60 or below 0 before sending anything', async () => {
    handler = failThenPass(0, () => undefined, sendResult);
    await expect(client().messages.send(ROOM, { content: 'hi', wait: 61 })).rejects.toThrow(/wait must be between 0 and 60/);
    await expect(client().messages.send(ROOM, { content: 'hi', wait: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(client().messages.regenerate(ROOM, REPLY, { wait: 120 })).rejects.toBeInstanceOf(RangeError);
    await expect(client().messages.edit(ROOM, 'some-prompt-id', { content: 'x', wait: 99 })).rejects.toBeInstanceOf(RangeError);
    expect(seen).toHaveLength(0);
    await client().messages.send(ROOM, { content: 'hi', wait: 60 });
    expect(seen[0]!.headers.prefer).toBe('wait=60');
  });
});

describe('errors', () => {
  it.each([
    [400, 'VALIDATION_FAILED', BadRequestError],
    [401, 'INVALID_API_KEY', AuthenticationError],
    [403, 'API_KEY_NOT_ALLOWED', PermissionDeniedError],
    [404, 'CHATROOM_NOT_FOUND', NotFoundError],
    [409, 'CHATROOM_BUSY', ConflictError],
    [422, 'PDF_TOO_MANY_PAGES', UnprocessableEntityError],
    [429, 'RATE_LIMITED', RateLimitError],
    [429, 'QUOTA_EXCEEDED', QuotaExceededError],
    [500, 'INTERNAL_ERROR', InternalServerError],
    [503, 'SERVICE_UNAVAILABLE', ServiceUnavailableError],
  ] as const)('answers %i %s with its subclass', async (status, code, Class) => {
    handler = (_req, res) => json(res, status, problem(status, code), { 'retry-after': '600' });
    const err = await client({ apiKey: 'gck_x', maxRetries: 0 }).chatrooms.get(ROOM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Class);
    expect(err).toBeInstanceOf(GeminiChatError);
    expect(err).toMatchObject({ status, code, name: Class.name, requestId: 'req-1', detail: `${code} happened` });
  });

  it('gives UNEXPECTED_RESPONSE for an answer that is not a problem document', async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    };
    const err = await client({ maxRetries: 0 }).chatrooms.get(ROOM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).toMatchObject({ status: 502, code: 'UNEXPECTED_RESPONSE' });
  });

  it('gives UNEXPECTED_RESPONSE for a success whose body is not the JSON promised', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'x-request-id': 'req-html' });
      res.end('<html>Captive portal</html>');
    };
    const err = await client().chatrooms.get(ROOM).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'GeminiChatError', status: 200, code: 'UNEXPECTED_RESPONSE', requestId: 'req-html' });
    expect(seen).toHaveLength(1);
  });

  it('isGeminiChatError recognises errors of another copy of the package, which instanceof does not', async () => {
    vi.resetModules();
    const copy = await import('../src/index.js');
    expect(copy.GeminiChatError).not.toBe(GeminiChatError);
    handler = (_req, res) => json(res, 404, problem(404, 'CHATROOM_NOT_FOUND'));
    const foreign = await copy
      .createClient({ baseUrl, apiKey: 'gck_x' })
      .chatrooms.get(ROOM)
      .catch((e: unknown) => e);
    expect(foreign).not.toBeInstanceOf(GeminiChatError);
    expect(foreign).toBeInstanceOf(copy.NotFoundError);
    expect(isGeminiChatError(foreign)).toBe(true);
    expect(copy.isGeminiChatError(new NotFoundError(404, problem(404, 'CHATROOM_NOT_FOUND')))).toBe(true);
    expect(isGeminiChatError(new Error('x'))).toBe(false);
    expect(isGeminiChatError({ code: 'CHATROOM_NOT_FOUND', status: 404 })).toBe(false);
    expect(isGeminiChatError(null)).toBe(false);
  });
});
