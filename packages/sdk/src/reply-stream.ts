import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { EventSourceMessage } from 'eventsource-parser/stream';
import { APITimeoutError, GeminiChatError } from './errors.js';
import type { components } from './schema.js';
import type { FetchLike } from './session.js';
import { withDefaults } from './session.js';
import { sleep } from './sleep.js';

type Message = components['schemas']['Message'];

/** One event of a reply stream. Every event has the `id` to resume after. */
export type ReplyEvent =
  /** A chunk of text to append. */
  | { type: 'delta'; id: string; text: string }
  /** A retried attempt starts the reply over: clear the text received so far. */
  | { type: 'reset'; id: string }
  /** The reply ended (`completed`, or `cancelled` with the partial text); the last event. */
  | { type: 'done'; id: string; message: Message }
  /** The reply failed (`message.error` says why); the last event. */
  | { type: 'error'; id: string; message: Message };

/**
 * A chunk of the model's thought summary, apart from the reply's text. The server sends them only for a chatroom that
 * shows thoughts, and the client yields them only with `thoughts: true` (otherwise they are skipped, like any event
 * type the caller did not ask for, so code written for `ReplyEvent` keeps working).
 */
export interface ThoughtEvent {
  type: 'thought';
  id: string;
  text: string;
}

export interface StreamReplyOptions {
  /** Also yield `thought` events (`ThoughtEvent`). */
  thoughts?: boolean;
  /** Resume after this event id (e.g. saved from an earlier stream): events up to it are not sent again. */
  lastEventId?: string;
  /** Stops the stream; the iteration then rejects with the signal's reason (an `AbortError`). */
  signal?: AbortSignal;
  /** Reconnections in a row without receiving an event before giving up (default 5). */
  maxRetries?: number;
  /** First reconnection delay in ms, doubled each time up to 10 s, with jitter (default 500). */
  retryDelayMs?: number;
  /**
   * Milliseconds without a byte (to connect, or between events) before the connection is dropped and resumed
   * (default: the client's `timeout`). Not a limit on the whole reply, however long it takes to write.
   */
  timeout?: number;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

export function streamReplyEvents(
  deps: { baseUrl: string; fetch: FetchLike; headers: Headers; timeout?: number },
  path: string,
  options: StreamReplyOptions = {},
): AsyncGenerator<ReplyEvent | ThoughtEvent, void, undefined> {
  const { maxRetries = 5, retryDelayMs = 500, signal, thoughts = false } = options;
  const idleMs = options.timeout ?? deps.timeout ?? 60_000;
  const url = `${deps.baseUrl.replace(/\/+$/, '')}${path}`;

  return (async function* events() {
    let lastEventId = options.lastEventId;
    let failures = 0;
    let lastError: unknown;
    for (;;) {
      signal?.throwIfAborted();
      // One controller per connection: cancels the request when the caller aborts or stops iterating.
      const connection = new AbortController();
      const onAbort = () => connection.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Idle timer: restarted by every chunk; when it fires the connection is dropped and resumed like a cut one.
      let idle: ReturnType<typeof setTimeout> | undefined;
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => connection.abort(new APITimeoutError(idleMs)), idleMs);
      };
      touch();
      let retryAfterMs = 0;
      try {
        const headers = withDefaults(deps.headers, { accept: 'text/event-stream' });
        if (lastEventId !== undefined) headers.set('last-event-id', lastEventId);
        const response = await deps.fetch(new Request(url, { headers, signal: connection.signal }));
        // The server's answer to a resume after the final event: the caller has the whole reply already.
        if (response.status === 204) return;
        if (!response.ok || !response.body) {
          const error = await GeminiChatError.fromResponse(response);
          if (!RETRYABLE_STATUS.has(response.status)) throw error;
          lastError = error;
          retryAfterMs = (error.retryAfterSeconds ?? 0) * 1000;
        } else {
          const reader = response.body
            // Any bytes (keep-alive comments too) show the connection is alive.
            .pipeThrough(new TransformStream<ArrayBufferView | ArrayBuffer, ArrayBufferView | ArrayBuffer>({ transform: (chunk, out) => (touch(), out.enqueue(chunk)) }))
            .pipeThrough(new TextDecoderStream())
            .pipeThrough(new EventSourceParserStream())
            .getReader();
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              // Any event with an id counts for resuming, including types this version skips.
              if (value.id !== undefined) {
                lastEventId = value.id;
                failures = 0;
              }
              const event = toReplyEvent(value, thoughts);
              if (!event) continue;
              yield event;
              if (event.type === 'done' || event.type === 'error') return;
              signal?.throwIfAborted(); // aborted while the caller handled the event: nothing more is delivered
            }
            lastError = new Error('The reply stream ended before its final event.');
          } finally {
            reader.cancel().catch(() => undefined);
          }
        }
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (err instanceof GeminiChatError && err.status !== 0) throw err;
        lastError = connection.signal.reason instanceof APITimeoutError ? connection.signal.reason : err; // the connection failed or was cut: resume after the last event received
      } finally {
        clearTimeout(idle);
        signal?.removeEventListener('abort', onAbort);
        connection.abort();
      }
      failures += 1;
      if (failures > maxRetries) throw lastError;
      const backoff = Math.min(10_000, retryDelayMs * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
      await sleep(Math.max(backoff, Math.min(retryAfterMs, 30_000)), signal);
    }
  })();
}

function toReplyEvent(message: EventSourceMessage, thoughts: boolean): ReplyEvent | ThoughtEvent | undefined {
  const { id, event } = message;
  if (id === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    return undefined;
  }
  switch (event) {
    case 'delta':
      return { type: 'delta', id, text: String((data as { text?: unknown }).text ?? '') };
    case 'thought':
      return thoughts ? { type: 'thought', id, text: String((data as { text?: unknown }).text ?? '') } : undefined;
    case 'reset':
      return { type: 'reset', id };
    case 'done':
    case 'error':
      return { type: event, id, message: data as Message };
    default:
      return undefined; // an event type this version does not know: skipped, so newer servers stay compatible
  }
}
