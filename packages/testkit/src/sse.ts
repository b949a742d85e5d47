// Server-Sent Events read as a client would, with the maintained eventsource-parser: once to the end, with a
// deadline, or resuming with Last-Event-ID like a browser EventSource.
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: unknown;
}

function parse(body: ReadableStream<Uint8Array>): ReadableStreamDefaultReader<EventSourceMessage> {
  return body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
}

const toEvent = (message: EventSourceMessage): SseEvent => ({ id: message.id, event: message.event, data: JSON.parse(message.data) });

/**
 * Reads a Server-Sent Events response with a maintained parser, as a client would. Stops at the end of the
 * stream, or after `stopAfter(events)` returns true (then disconnects, like a client going away).
 */
export async function readSse(
  url: string,
  headers: Record<string, string>,
  stopAfter: (events: SseEvent[]) => boolean = () => false,
): Promise<{ status: number; events: SseEvent[]; contentType: string | null }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: SseEvent[] = [];
  if (!res.ok || !res.body) return { status: res.status, events, contentType: res.headers.get('content-type') };
  const reader = parse(res.body);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      events.push(toEvent(value));
      if (stopAfter(events)) {
        abort.abort();
        break;
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  }
  return { status: res.status, events, contentType: res.headers.get('content-type') };
}

export interface SseRead {
  status: number;
  contentType: string | null;
  events: SseEvent[];
  /** How the read stopped: the server ended the stream, `stopAfter` said so, the deadline passed, or the connection broke. */
  ended: 'end' | 'stopped' | 'timeout' | 'broken';
}

/**
 * Reads with a deadline: a stream that neither ends nor delivers within `timeoutMs` ends as `timeout`, never left
 * hanging. Transport errors end it as `broken` (status 0 when it never connected) instead of throwing.
 */
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
    const reader = parse(res.body);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          why ??= 'end';
          break;
        }
        const event = toEvent(value);
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

/** The text a client shows after these events: deltas appended, a `reset` clears what came before. */
export function shownText(events: SseEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.event === 'reset') text = '';
    if (e.event === 'delta') text += (e.data as { text: string }).text;
  }
  return text;
}

export const deltas = (events: SseEvent[]) => events.filter((e) => e.event === 'delta').map((e) => (e.data as { text: string }).text).join('');
