// Server-Sent Events read as a client would (the maintained eventsource-parser), with a deadline: a stream
// that neither ends nor delivers within it is reported as `timedOut`, never left hanging.
import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { SseEvent } from '../../support/sse.js';

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
