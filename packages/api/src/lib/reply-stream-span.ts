import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { SseFrame } from '../services/reply-stream.service.js';

// A no-op until a preload registers the SDK.
const tracer = trace.getTracer('gemini-chat-api');

/**
 * One reply stream connection as a span (a child of its HTTP request's span): how many events, heartbeats and
 * bytes it delivered, the event id it resumed after, and whether the client left before the final event. The
 * Redis reads made while streaming are its children.
 */
export function inReplyStreamSpan<T>(
  messageId: string,
  lastEventId: string | undefined,
  run: (stream: { delivered(frame: SseFrame, bytes: number): void; failed(err: unknown): void }) => Promise<T>,
  gone: AbortSignal,
): Promise<T> {
  return tracer.startActiveSpan(
    'reply-stream',
    { attributes: { 'app.message_id': messageId, ...(lastEventId !== undefined ? { 'sse.last_event_id': lastEventId } : {}) } },
    async (span: Span) => {
      let events = 0;
      let heartbeats = 0;
      let bytes = 0;
      let final: string | undefined;
      try {
        return await run({
          delivered(frame, size) {
            bytes += size;
            if ('heartbeat' in frame) heartbeats++;
            else {
              events++;
              if (frame.event === 'done' || frame.event === 'error') final = frame.event;
            }
          },
          failed(err) {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          },
        });
      } finally {
        span.setAttributes({
          'sse.events': events,
          'sse.heartbeats': heartbeats,
          'sse.bytes': bytes,
          'sse.final_event': final ?? 'none',
          'sse.client_left': gone.aborted && final === undefined,
        });
        span.end();
      }
    },
  );
}
