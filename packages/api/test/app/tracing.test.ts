// Tracing first: it must hook pg and ioredis before anything below imports them.
import { spans, started } from '../support/in-memory-tracing.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { ProxyTracer, SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { traceLogFields } from '@gemini-chat/shared';
import { http, isolate, signInOver, type Isolated, type SignedIn } from '@gemini-chat/testkit';
import { buildApp } from '../../src/app.js';

const SAMPLED = (n: number) => `00-${n.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`;
const UNSAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

let isolated: Isolated;
let app: FastifyInstance;
let base: string;
let user: SignedIn;
/** The API's log lines, as the production logger writes them (with the trace-id mixin app.ts installs). */
const lines: Array<Record<string, unknown>> = [];
beforeAll(async () => {
  isolated = await isolate({ OTEL_TRACES_EXPORTER: 'console' });
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  app = await buildApp({ config: isolated.config, logger: { level: 'info', stream, mixin: traceLogFields } });
  // Over real sockets, so the response's 'finish' (and the onResponse line) follows real writes.
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  user = await signInOver(base);
});
afterAll(async () => {
  await app?.close();
  await isolated?.cleanup();
});
afterEach(() => vi.restoreAllMocks());

const completedLine = (requestId: string | null) => lines.find((line) => line.reqId === requestId && line.msg === 'request completed');
const serverSpan = (traceId: string) =>
  spans.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER && span.spanContext().traceId === traceId);
/** Whether `span` descends from `ancestor` in the finished spans. */
function under(span: ReadableSpan, ancestor: ReadableSpan): boolean {
  const byId = new Map(spans.getFinishedSpans().map((candidate) => [candidate.spanContext().spanId, candidate]));
  for (let parent = byId.get(span.parentSpanContext?.spanId ?? ''); parent; parent = byId.get(parent.parentSpanContext?.spanId ?? '')) {
    if (parent === ancestor) return true;
  }
  return false;
}

/** A JSON POST whose body leaves 50 ms after its headers, as a slow client's would: it reaches the server in events
 * of its own, after the request's hooks ran. */
function postLate(path: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; requestId: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: String(res.headers['x-request-id']) }));
    });
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => req.end(payload), 50);
  });
}

describe('the API\'s server spans, sampled at the door', () => {
  it('a sampled request with a body: a span named by route, its pg and Redis children, its ids on its log line', async () => {
    spans.reset();
    const res = await postLate('/chatroom', { ...user.auth, traceparent: SAMPLED(1) }, { title: 'Traced' });
    expect(res.status).toBe(201);
    const request = await vi.waitFor(() => serverSpan(SAMPLED(1).slice(3, 35))!);
    expect(request.name).toBe('POST /chatroom');
    expect(request.attributes).toMatchObject({ 'http.route': '/chatroom', 'http.response.status_code': 201, 'app.request_id': res.requestId });
    // The handler ran once the late body was in (Fastify resumes the context its parsing started in): still in the
    // span's context, so its I/O is the span's.
    const children = spans.getFinishedSpans().filter((span) => under(span, request));
    expect(children.some((span) => span.attributes['db.system.name'] === 'postgresql')).toBe(true);
    expect(children.some((span) => span.attributes['db.system.name'] === 'redis')).toBe(true);
    // The response's end (onResponse) in the span's context too, without its emitter being bound.
    await vi.waitFor(() => expect(completedLine(res.requestId)).toMatchObject({
      trace_id: request.spanContext().traceId,
      span_id: request.spanContext().spanId,
    }));
  });

  it('a sampled request without a body: its span and its log line', async () => {
    spans.reset();
    const res = await http(base, 'GET', '/chatroom', { headers: { ...user.auth, traceparent: SAMPLED(2) } });
    expect(res.status).toBe(200);
    const request = await vi.waitFor(() => serverSpan(SAMPLED(2).slice(3, 35))!);
    expect(request.name).toBe('GET /chatroom');
    await vi.waitFor(() => expect(completedLine(res.headers.get('x-request-id'))).toMatchObject({ trace_id: request.spanContext().traceId }));
  });

  it('an unsampled request starts no span and enters no context; its log lines and problems carry no trace id', async () => {
    const unsampled = { ...user.auth, traceparent: UNSAMPLED };
    await http(base, 'GET', '/chatroom', { headers: unsampled }); // warm: whatever a first request loads lazily
    spans.reset();
    started.length = 0;
    const startSpan = vi.spyOn(ProxyTracer.prototype, 'startSpan');
    const entered = vi.spyOn(AsyncLocalStorage.prototype, 'run');
    const list = await http(base, 'GET', '/chatroom', { headers: unsampled });
    const created = await http(base, 'POST', '/chatroom', { headers: unsampled, body: { title: 'Not traced' } });
    const missing = await http(base, 'GET', '/chatroom/00000000-0000-4000-8000-000000000000', { headers: unsampled });
    expect([list.status, created.status, missing.status]).toEqual([200, 201, 404]);
    // Its Postgres and Redis work (the create) started no span either: the instrumentations found no parent.
    expect(started).toEqual([]);
    expect(startSpan).not.toHaveBeenCalled();
    expect(entered).not.toHaveBeenCalled();
    expect(missing.json()).not.toHaveProperty('traceId');
    for (const res of [list, created, missing]) {
      await vi.waitFor(() => expect(completedLine(res.headers.get('x-request-id'))).toBeDefined());
      expect(completedLine(res.headers.get('x-request-id'))).not.toHaveProperty('trace_id');
    }
    expect(spans.getFinishedSpans()).toEqual([]);
  });

  it('polled routes are never traced', async () => {
    spans.reset();
    started.length = 0;
    expect((await http(base, 'GET', '/health', { headers: { traceparent: SAMPLED(3) } })).status).toBe(200);
    expect(started).toEqual([]);
  });
});
