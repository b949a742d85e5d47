import { EventSourceParserStream } from 'eventsource-parser/stream';

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: unknown;
}

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
  const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      events.push({ id: value.id, event: value.event, data: JSON.parse(value.data) });
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
