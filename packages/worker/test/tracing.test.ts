// Tracing first: it must hook pg and ioredis before anything below imports them.
import { spans } from './support/in-memory-tracing.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { traceLogFields } from '@gemini-chat/shared';
import { http, readSse, signInOver, startStack, waitFor, type SignedIn, type Stack } from '@gemini-chat/testkit';
import { startWorker } from '../src/worker.js';

let s: Stack;
let base: string;
let user: SignedIn;
beforeAll(async () => {
  // OTEL_TRACES_EXPORTER makes the app's config say tracing is on (route-named spans); the spans themselves go
  // to the in-memory exporter started above.
  s = await startStack({ OTEL_TRACES_EXPORTER: 'console' }, { startWorker });
  // Over real sockets: the HTTP server span comes from Node's http module, which inject() bypasses.
  base = await s.app.listen({ host: '127.0.0.1', port: 0 });
  user = await signInOver(base);
});
afterAll(() => s?.close());

const finished = () => spans.getFinishedSpans();
const inTrace = (traceId: string) => finished().filter((span) => span.spanContext().traceId === traceId);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The names of a span's ancestors, nearest first. */
function ancestry(span: ReadableSpan, all: ReadableSpan[]): string[] {
  const byId = new Map(all.map((candidate) => [candidate.spanContext().spanId, candidate]));
  const names: string[] = [];
  for (let parent = byId.get(parentOf(span) ?? ''); parent; parent = byId.get(parentOf(parent) ?? '')) names.push(parent.name);
  return names;
}

/** The database spans (pg's or ioredis's, by db.system.name) below `ancestor` in the trace. */
function below(ancestor: ReadableSpan, all: ReadableSpan[], dbSystem: string): ReadableSpan[] {
  return all.filter((span) => span.attributes['db.system.name'] === dbSystem && ancestry(span, all).includes(ancestor.name));
}

describe('tracing', () => {
  it('one prompt is one trace: the HTTP request, its job in the worker, the Gemini call, with pg and Redis spans', async () => {
    const room = await http(base, 'POST', '/chatroom', { headers: user.auth, body: {} });
    expect(room.status).toBe(201);
    const chatroomId = (room.json() as { id: string }).id;
    spans.reset();

    const sent = await http(base, 'POST', `/chatroom/${chatroomId}/message`, { headers: user.auth, body: { content: 'Trace this prompt' } });
    expect([200, 202]).toContain(sent.status);
    const replyId = (sent.json() as { reply: { id: string } }).reply.id;
    const stream = await readSse(`${base}/chatroom/${chatroomId}/messages/${replyId}/stream`, user.auth);
    expect(stream.events.at(-1)?.event).toBe('done');

    const request = await waitFor(async () => finished().find((span) => span.name === 'POST /chatroom/:id/message'));
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.attributes['http.route']).toBe('/chatroom/:id/message');
    const traceId = request.spanContext().traceId;
    const job = await waitFor(async () => inTrace(traceId).find((span) => span.name === 'process generate-reply'));
    const gemini = inTrace(traceId).find((span) => span.name === 'chat gemini-flash-latest' && span.attributes['gen_ai.request.stream']);
    const all = inTrace(traceId);

    // HTTP span → job span (its direct child, through the traceparent carried in the job's payload) → Gemini span.
    expect(request.parentSpanContext).toBeUndefined();
    expect(parentOf(job)).toBe(request.spanContext().spanId);
    expect(job.kind).toBe(SpanKind.CONSUMER);
    expect(job.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.operation.type': 'process', 'bullmq.job.attempt': 1 });
    expect(gemini).toBeDefined();
    expect(parentOf(gemini!)).toBe(job.spanContext().spanId);
    expect(gemini!.kind).toBe(SpanKind.CLIENT);
    expect(gemini!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'gcp.gemini',
      'gen_ai.request.model': 'gemini-flash-latest',
      'gen_ai.response.finish_reasons': ['STOP'],
    });
    expect(gemini!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(gemini!.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(gemini!.attributes['gen_ai.usage.reasoning.output_tokens']).toBeGreaterThanOrEqual(0);
    expect(gemini!.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(gemini!.events.map((event) => event.name)).toContain('gen_ai.first_chunk');
    // The HTTP call to Gemini (fetch) is the Gemini span's child.
    expect(all.some((span) => parentOf(span) === gemini!.spanContext().spanId && span.kind === SpanKind.CLIENT)).toBe(true);

    // Postgres and Redis on both sides of the queue.
    expect(below(request, all, 'postgresql').length).toBeGreaterThan(0);
    expect(below(request, all, 'redis').length).toBeGreaterThan(0);
    expect(below(job, all, 'postgresql').length).toBeGreaterThan(0);
    expect(below(job, all, 'redis').length).toBeGreaterThan(0);

    // The chatroom's first exchange earns it a title: a job enqueued by the reply's job, so in the same trace, with
    // its own (not streamed) Gemini call.
    const title = await waitFor(async () => inTrace(traceId).find((span) => span.name === 'process generate-title'));
    expect(ancestry(title, inTrace(traceId))).toContain('process generate-reply');
    const titleCall = inTrace(traceId).find((span) => span.name === 'chat gemini-flash-latest' && parentOf(span) === title.spanContext().spanId);
    expect(titleCall?.attributes['gen_ai.request.stream']).toBe(false);
    expect(titleCall?.attributes['gen_ai.response.finish_reasons']).toHaveLength(1); // MAX_TOKENS: titles are short
    expect(titleCall?.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);

    // The stream's delivery: a span of the stream request, counting what it sent.
    const delivery = await waitFor(async () => finished().find((span) => span.name === 'reply-stream'));
    expect(ancestry(delivery, finished())).toContain('GET /chatroom/:id/messages/:messageId/stream');
    expect(delivery.attributes['sse.events']).toBe(stream.events.length);
    expect(delivery.attributes['sse.bytes']).toBeGreaterThan(0);
    expect(delivery.attributes['sse.final_event']).toBe('done');
  });

  it('a request the sampler drops costs no span anywhere: not its own, not its job\'s, not the Gemini call\'s', async () => {
    const room = await http(base, 'POST', '/chatroom', { headers: user.auth, body: {} });
    const chatroomId = (room.json() as { id: string }).id;
    spans.reset();
    // A caller's trace that was not sampled (flags 00): parent-based sampling drops the request at the door.
    const unsampled = { ...user.auth, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' };
    const sent = await http(base, 'POST', `/chatroom/${chatroomId}/message`, { headers: unsampled, body: { content: 'Do not trace' } });
    expect([200, 202]).toContain(sent.status);
    const replyId = (sent.json() as { reply: { id: string } }).reply.id;
    const stream = await readSse(`${base}/chatroom/${chatroomId}/messages/${replyId}/stream`, unsampled);
    expect(stream.events.at(-1)?.event).toBe('done');
    // The title job the reply's job enqueues runs after the reply: give it time to run.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(finished().map((span) => span.name)).toEqual([]);
    // Dropped at the door, not merely unrecorded: no span was even started, so there is no trace id to quote.
    const missing = await http(base, 'GET', '/chatroom/00000000-0000-4000-8000-000000000000', { headers: unsampled });
    expect(missing.status).toBe(404);
    expect(missing.json()).not.toHaveProperty('traceId');
  });

  it('joins the caller\'s trace when its traceparent is sampled', async () => {
    spans.reset();
    const caller = { ...user.auth, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const res = await http(base, 'GET', '/chatroom', { headers: caller });
    expect(res.status).toBe(200);
    const request = await waitFor(async () => finished().find((span) => span.name === 'GET /chatroom'));
    expect(request.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(request.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(request.attributes['http.response.status_code']).toBe(200);
  });

  it('quotes the trace id next to the requestId in a problem document', async () => {
    const res = await http(base, 'GET', '/chatroom/00000000-0000-4000-8000-000000000000', { headers: user.auth });
    expect(res.status).toBe(404);
    const problem = res.json() as { requestId: string; traceId?: string };
    expect(problem.traceId).toMatch(/^[0-9a-f]{32}$/);
    const request = await waitFor(async () => inTrace(problem.traceId!).find((span) => span.kind === SpanKind.SERVER));
    expect(request.attributes['app.request_id']).toBe(problem.requestId);
  });

  it('puts the active span\'s ids on log lines', () => {
    expect(traceLogFields()).toEqual({});
    trace.getTracer('test').startActiveSpan('logged', (span) => {
      expect(traceLogFields()).toEqual({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
      span.end();
    });
  });
});
