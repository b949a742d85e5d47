import { AppError, TERMINAL_EVENTS, isPending, notFound, type MessageRow, type MessageWithSiblings, type ReplyEvents, type ReplyNotifications, type Store } from '@gemini-chat/shared';
import { toMessage } from './mappers.js';

/** One Server-Sent Event, or a heartbeat comment. */
export type SseFrame = { id: string; event: 'delta' | 'thought' | 'reset' | 'done' | 'error'; data: unknown } | { heartbeat: true };

/**
 * A stream a client may read: its events until the final one, or `ended` when the client resumed after the final
 * event already (there is nothing to send, and it must not reconnect).
 */
export type ReplyStream = { ended: true } | { ended: false; events(signal: AbortSignal): AsyncGenerator<SseFrame> };

const BATCH = 500;
// Ids of the events replayed from the database once a reply's live log has expired. They sort before any Redis
// Stream id, so a client resuming from one of them gets exactly the rest.
const DB_RESET_ID = '0-0';
const DB_DELTA_ID = '0-1';
const DB_END_ID = '0-2';
// The worker writes a reply's final row, then its final log entry, a moment later. A reply final in the database
// whose log still has no final entry this long after is one whose last write was lost (a Redis blip).
const FINAL_ENTRY_GRACE_MS = 3000;
const EVENT_ID = /^\d{1,20}-\d{1,20}$/;

const parseId = (id: string): [bigint, bigint] => {
  const [ms = '0', seq = '0'] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
};
const compareIds = (a: string, b: string) => {
  const [am, as] = parseId(a);
  const [bm, bs] = parseId(b);
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
};

/**
 * A reply as Server-Sent Events, from its live log in Redis: any API instance can serve it and resume it, since
 * event ids are the log's ids. Waits for new entries on the process's single subscriber connection.
 */
export function createReplyStreamService(deps: {
  store: Store;
  replyEvents: ReplyEvents;
  notifications: ReplyNotifications;
  heartbeatMs: number;
}) {
  const { store, replyEvents, notifications, heartbeatMs } = deps;

  /** The final event of a reply, carrying the message as it is now stored. */
  function terminalFrame(id: string, row: MessageWithSiblings): SseFrame {
    return { id, event: row.status === 'failed' ? 'error' : 'done', data: toMessage(row, []) }; // a reply: attachments belong to prompts
  }

  async function* fromDatabase(row: MessageWithSiblings, after: string): AsyncGenerator<SseFrame> {
    // The client saw events of a live log that no longer exists: start it over from the stored reply.
    if (compareIds(after, DB_END_ID) > 0) {
      yield { id: DB_RESET_ID, event: 'reset', data: {} };
      after = '0';
    }
    if (row.content && compareIds(after, DB_DELTA_ID) < 0) yield { id: DB_DELTA_ID, event: 'delta', data: { text: row.content } };
    if (compareIds(after, DB_END_ID) < 0) yield terminalFrame(DB_END_ID, row);
  }

  /** Whether a client that saw every event up to `lastEventId` has the reply's final event already. */
  async function hasFinalEvent(message: MessageRow, lastEventId: string): Promise<boolean> {
    const last = await replyEvents.last(message.id);
    if (last) return TERMINAL_EVENTS.has(last.type) && compareIds(last.id, lastEventId) <= 0;
    // The log expired: the replay from the database ends with DB_END_ID.
    return !isPending(message.status) && lastEventId === DB_END_ID;
  }

  return {
    /** Checks access (404 for someone else's message) before any byte of the stream is sent. */
    async open(userId: string, chatroomId: string, messageId: string, lastEventId: string | undefined): Promise<ReplyStream> {
      if (!(await store.chatrooms.findOwned(userId, chatroomId))) throw notFound('chatroom');
      const message = await store.messages.findInChatroom(chatroomId, messageId);
      if (!message) throw notFound('message');
      if (message.role !== 'assistant') throw new AppError(400, 'NOT_A_REPLY', 'Only assistant replies can be streamed.');
      if (lastEventId !== undefined && lastEventId !== '0' && !EVENT_ID.test(lastEventId)) {
        throw new AppError(400, 'VALIDATION_FAILED', 'Last-Event-ID is not an event id of this stream.', {
          errors: [{ in: 'headers', field: 'last-event-id', message: 'is not an event id of this stream' }],
        });
      }
      if (lastEventId !== undefined && lastEventId !== '0' && (await hasFinalEvent(message, lastEventId))) return { ended: true };
      return { ended: false, events: (signal: AbortSignal) => frames(chatroomId, messageId, lastEventId ?? '0', signal) };
    },
  };

  async function* frames(chatroomId: string, messageId: string, startAfter: string, signal: AbortSignal): AsyncGenerator<SseFrame> {
    let cursor = startAfter;
    let dirty = true;
    let finalWithoutEntrySince: number | undefined;
    // Ends the current wait: true when the log changed, false on the heartbeat or when the client left.
    let wake: ((woken: boolean) => void) | undefined;
    // Listen before the first read so an entry appended in between cannot be missed.
    const stop = notifications.listen(messageId, () => {
      dirty = true;
      wake?.(true);
    });
    // One abort listener and one timer for the stream's whole life, re-armed at each wait: a stream waits once per
    // event, and a listener and a timer made per wait were most of what each event allocated here.
    const onAbort = () => wake?.(false);
    signal.addEventListener('abort', onAbort, { once: true });
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      while (!signal.aborted) {
        if (dirty) {
          dirty = false;
          const batch = await replyEvents.read(messageId, cursor, BATCH);
          // The client may leave during any await: from then on nothing more is read or waited for.
          if (signal.aborted) return;
          for (const entry of batch) {
            cursor = entry.id;
            if (TERMINAL_EVENTS.has(entry.type)) {
              const [row] = await store.messages.findWithSiblings(chatroomId, [messageId]);
              if (row && !signal.aborted) yield terminalFrame(entry.id, row);
              return;
            }
            yield { id: entry.id, event: entry.type as 'delta' | 'thought' | 'reset', data: entry.data };
          }
          if (batch.length === BATCH) {
            dirty = true;
            continue;
          }
          if (batch.length === 0) {
            // Nearly every empty read is of a reply that is still pending (waiting for its run, or a heartbeat's
            // re-check): its status decides, and the row with its sibling info (a window query, and most of what
            // a waiting stream allocated) is read only once the reply is final.
            const message = await store.messages.findInChatroom(chatroomId, messageId);
            if (!message || signal.aborted) return; // deleted, or no one is reading
            if (!isPending(message.status)) {
              const [row] = await store.messages.findWithSiblings(chatroomId, [messageId]);
              if (!row || signal.aborted) return;
              const last = await replyEvents.last(messageId);
              if (signal.aborted) return;
              if (!last) {
                // Finished long enough ago that its live log expired: replay it from the database.
                yield* fromDatabase(row, cursor);
                return;
              }
              // The client resumed after the final event: nothing more will come.
              if (TERMINAL_EVENTS.has(last.type) && compareIds(last.id, cursor) <= 0) return;
              if (!TERMINAL_EVENTS.has(last.type)) {
                // The worker is about to append the final entry; if it never does, end the log for every reader.
                finalWithoutEntrySince ??= Date.now();
                if (Date.now() - finalWithoutEntrySince >= FINAL_ENTRY_GRACE_MS) {
                  const ended = await replyEvents.finish(messageId, row.status === 'failed' ? 'error' : 'done', { status: row.status });
                  if (signal.aborted) return;
                  if (!ended) {
                    // The log claims to have ended without a final entry: answer from the database and stop.
                    yield terminalFrame(last.id, row);
                    return;
                  }
                  dirty = true;
                  continue;
                }
              }
            }
          }
        }
        if (dirty) continue;
        const woken = await new Promise<boolean>((resolve) => {
          if (signal.aborted) return resolve(false); // an abort event already fired: waiting would last a whole interval
          wake = (value) => {
            wake = undefined;
            resolve(value);
          };
          // The heartbeat counts from the start of this wait. A timer that fires between waits finds no one waiting.
          if (heartbeat) heartbeat.refresh();
          else heartbeat = setTimeout(() => wake?.(false), heartbeatMs);
        });
        if (!woken && !signal.aborted) {
          yield { heartbeat: true };
          dirty = true; // also re-check now and then, in case a notification was lost while Redis reconnected
        }
      }
    } finally {
      stop();
      clearTimeout(heartbeat);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
export type ReplyStreamService = ReturnType<typeof createReplyStreamService>;
