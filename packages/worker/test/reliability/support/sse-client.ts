// Server-Sent Events read as a client would (the maintained eventsource-parser), with a deadline: a stream
// that neither ends nor delivers within it is reported as `timedOut`, never left hanging.
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { SseEvent } from '@gemini-chat/testkit';

export interface SseRead {
  status: number;
  contentType: string | null;
  events: SseEvent[];
  /** How the read stopped: the server ended the stream, `stopAfter` said so, the deadline passed, or the connection broke. */
  ended: 'end' | 'stopped' | 'timeout' | 'broken';
}

export async function readSseUntil(
  url: string,
  headers: Record<string, string>,
  options: { stopAfter?: (events: SseEvent[]) => boolean; timeoutMs: number; onEvent?: (event: SseEvent) => void },
): Promise<SseRead> {
  const abort = new AbortController();
  let why: SseRead['ended'] | undefined;
  const timer = setTimeout(() => {
    why = 'timeout';
    abort.abort();
  }, options.timeoutMs);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
    const contentType = res.headers.get('content-type');
    if (!res.ok || !res.body) {
      await res.arrayBuffer().catch(() => undefined);
      return { status: res.status, contentType, events, ended: 'end' };
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          why ??= 'end';
          break;
        }
        const event: SseEvent = { id: value.id, event: value.event, data: JSON.parse(value.data) };
        events.push(event);
        options.onEvent?.(event);
        if (options.stopAfter?.(events)) {
          why = 'stopped';
          abort.abort();
          break;
        }
      }
    } catch {
      why ??= 'broken';
    }
    return { status: res.status, contentType, events, ended: why ?? 'end' };
  } catch {
    return { status: 0, contentType: null, events, ended: why ?? 'broken' };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads a reply's stream as a browser `EventSource` or the SDK does: when the connection ends or breaks before a
 * final event (`done`/`error`), or the server refuses it for a while (503 during an outage), it reconnects after
 * `retryMs` with `Last-Event-ID` set to the last event received, until a final event or the deadline. Returns
 * every event received over all connections, in order, and how many reconnections it took.
 */
export async function readSseResuming(
  url: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; retryMs?: number; onEvent?: (event: SseEvent) => void },
): Promise<{ events: SseEvent[]; reconnects: number; ended: 'final' | 'timeout' }> {
  const deadline = Date.now() + options.timeoutMs;
  const events: SseEvent[] = [];
  const final = () => events.some((e) => e.event === 'done' || e.event === 'error');
  for (let connection = 0; ; connection++) {
    const lastId = events.findLast((e) => e.id !== undefined)?.id;
    await readSseUntil(url, { ...headers, ...(lastId ? { 'last-event-id': lastId } : {}) }, {
      timeoutMs: Math.max(1, deadline - Date.now()),
      onEvent: (event) => {
        events.push(event);
        options.onEvent?.(event);
      },
    });
    if (final()) return { events, reconnects: connection, ended: 'final' };
    if (Date.now() + (options.retryMs ?? 500) >= deadline) return { events, reconnects: connection, ended: 'timeout' };
    await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 500));
  }
}
