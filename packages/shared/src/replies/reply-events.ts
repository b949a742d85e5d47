import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { closeRedis } from '../redis/create-redis.js';

/**
 * The live log of one reply: a capped Redis Stream per assistant message, written by the worker and read by any API
 * instance (SSE, `Prefer: wait`). Every append also PUBLISHes the message id on one channel, so each API process
 * needs a single subscriber connection to learn that a reply moved, whatever the number of waiting clients.
 *
 * Entry types: `delta` (text chunk), `thought` (a thought summary chunk, apart from the text), `reset` (a new
 * attempt starts over: drop the partial text and thoughts), and the terminal
 * `done` / `error`. Writes are fenced by an owner token so a worker that lost its job cannot append any more.
 */
export type ReplyEventType = 'delta' | 'thought' | 'reset' | 'done' | 'error';
export interface ReplyEvent {
  id: string;
  type: ReplyEventType;
  data: Record<string, unknown>;
}

export const TERMINAL_EVENTS: ReadonlySet<ReplyEventType> = new Set(['done', 'error']);

/** What the reply log reads of the configuration: its key prefix and how long a finished reply stays replayable. */
export interface ReplyEventsConfig {
  redis: Pick<Config['redis'], 'keyPrefix'>;
  worker: Pick<Config['worker'], 'replyStreamTtlSeconds'>;
}

/** Upper bound on entries per reply: a safety cap (a reply has far fewer chunks). */
const MAX_ENTRIES = 10_000;

const ACTIVE_TTL_SECONDS = 3600;

// The owner of a log that is being ended (`stop`) or has ended: no run may write it any more.
const STOPPING = 'stopping';
const FINISHED = 'finished';
// A stop is followed within milliseconds by the end of the log. Should the process ending it die in between, the
// reply is still pending in the database and the log reopens to a new run after this long.
const STOPPING_TTL_SECONDS = 60;

// KEYS: stream, owner. ARGV: token, activeTtl, channel, messageId, controlChannel, retry(0/1). Takes ownership
// (telling any earlier run on the control channel), unless the log is being ended or has ended: its text is
// final then, and a run writing after the reader-visible end would be text nobody stores. A retry always starts
// with `reset`, even when the log is gone: a Redis restart loses the log but not what SSE clients already showed of
// the earlier attempt, and those clients resume after their last event id, so the `reset` (a newer id) is the only
// way to tell them to drop that text. A first attempt resets only a log that somehow exists already.
const CLAIM = `
local current = redis.call('GET', KEYS[2])
if current == '${STOPPING}' or current == '${FINISHED}' then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
redis.call('PUBLISH', ARGV[5], ARGV[4])
if ARGV[6] == '1' or redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('XADD', KEYS[1], '*', 'type', 'reset', 'data', '{}')
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1`;

// KEYS: owner. ARGV: ttl, controlChannel, messageId. Takes the log from whichever run writes it, without ending it
// yet, and tells that run. What the log holds from then on is final: the caller reads it, stores exactly that text,
// and only then ends the log, so readers are never shown text that is not stored, nor told the reply ended before
// the database says how.
const STOP = `
if redis.call('GET', KEYS[1]) == '${FINISHED}' then return 0 end
redis.call('SET', KEYS[1], '${STOPPING}', 'EX', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

// KEYS: stream, owner. ARGV: token, type, data, maxEntries, ttl, channel, messageId, terminal(0/1).
// Appends only while the caller still owns the reply.
const APPEND = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'type', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
if ARGV[8] == '1' then redis.call('SET', KEYS[2], '${FINISHED}', 'EX', ARGV[5]) else redis.call('EXPIRE', KEYS[2], ARGV[5]) end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return id`;

// KEYS: stream, owner. ARGV: type, data, maxEntries, ttl, channel, messageId, controlChannel. Ends the log whoever
// owns it (cancel from the API, or the queue giving up on a job): later writes of any run are refused, and the
// run generating it hears so on the control channel.
const FINISH = `
if redis.call('GET', KEYS[2]) == '${FINISHED}' then return false end
redis.call('SET', KEYS[2], '${FINISHED}', 'EX', ARGV[4])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'type', ARGV[1], 'data', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
redis.call('PUBLISH', ARGV[7], ARGV[6])
return id`;

/**
 * The text readers of these events show: deltas (or, with `type` 'thought', thought summaries) appended, a `reset`
 * dropping what came before, up to the end.
 */
export function shownText(events: ReplyEvent[], type: 'delta' | 'thought' = 'delta'): string {
  let text = '';
  for (const event of events) {
    if (TERMINAL_EVENTS.has(event.type)) break;
    if (event.type === 'reset') text = '';
    else if (event.type === type && typeof event.data.text === 'string') text += event.data.text;
  }
  return text;
}

/** A stream entry as XRANGE returns it (`[id, [field, value, ...]]`) as a ReplyEvent. */
function toEvent([id, fields]: [string, string[]]): ReplyEvent {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  return { id, type: record.type as ReplyEventType, data: JSON.parse(record.data ?? '{}') as Record<string, unknown> };
}

export function createReplyEvents(redis: Redis, config: ReplyEventsConfig) {
  const options = { prefix: config.redis.keyPrefix, finishedTtlSeconds: config.worker.replyStreamTtlSeconds, maxEntries: MAX_ENTRIES };
  const stream = (messageId: string) => `${options.prefix}reply:{${messageId}}:events`;
  const owner = (messageId: string) => `${options.prefix}reply:{${messageId}}:owner`;
  const channel = `${options.prefix}reply-events`;
  // Ownership changes only (takeover, cancel, delete): what a generating worker must hear, without every chunk.
  const controlChannel = `${options.prefix}reply-control`;

  /** Events after `afterId` (exclusive; '0' for all), oldest first. */
  async function read(messageId: string, afterId = '0', count = 500): Promise<ReplyEvent[]> {
    const start = afterId === '0' ? '-' : `(${afterId}`;
    const entries = await redis.xrange(stream(messageId), start, '+', 'COUNT', count);
    return entries.map(toEvent);
  }

  /** The text and thoughts the log shows readers (see `shownText`); undefined when there is no log. */
  async function shown(messageId: string): Promise<{ text: string; thoughts: string } | undefined> {
    const events: ReplyEvent[] = [];
    for (let after = '0'; ; ) {
      const batch = await read(messageId, after, 1000);
      events.push(...batch);
      const last = batch.at(-1);
      if (!last || batch.length < 1000 || TERMINAL_EVENTS.has(last.type)) break;
      after = last.id;
    }
    return events.length === 0 ? undefined : { text: shownText(events), thoughts: shownText(events, 'thought') };
  }

  return {
    channel,
    controlChannel,

    /**
     * Makes `token` the only writer of this reply's log. `retry` (an earlier attempt may have streamed text)
     * appends a `reset` whether or not the log survived, so readers drop what they already showed. False when the
     * log is being ended or has ended (see `stop`): the run must not generate.
     */
    async claim(messageId: string, token: string, retry: boolean): Promise<boolean> {
      const claimed = await redis.eval(CLAIM, 2, stream(messageId), owner(messageId), token, ACTIVE_TTL_SECONDS, channel, messageId, controlChannel, retry ? '1' : '0');
      return claimed === 1;
    },

    /**
     * Freezes the log before ending a reply from outside its run (cancel, the queue giving up): no run can append
     * any more, and the generating one hears so at once. Then read `text`, store it, and `finish` the log.
     */
    async stop(messageId: string): Promise<void> {
      await redis.eval(STOP, 1, owner(messageId), STOPPING_TTL_SECONDS, controlChannel, messageId);
    },

    /** The text the log shows readers (see `shownText`); undefined when there is no log (never written, or expired). */
    async text(messageId: string): Promise<string | undefined> {
      return (await shown(messageId))?.text;
    },

    /** The text and thoughts the log shows readers; undefined when there is no log (never written, or expired). */
    shown,

    /** Appends an event; returns its id, or null when `token` no longer owns the reply. */
    async append(messageId: string, token: string, type: ReplyEventType, data: Record<string, unknown>): Promise<string | null> {
      const terminal = TERMINAL_EVENTS.has(type);
      const ttl = terminal ? options.finishedTtlSeconds : ACTIVE_TTL_SECONDS;
      const id = await redis.eval(
        APPEND,
        2,
        stream(messageId),
        owner(messageId),
        token,
        type,
        JSON.stringify(data),
        options.maxEntries,
        ttl,
        channel,
        messageId,
        terminal ? '1' : '0',
      );
      return typeof id === 'string' ? id : null;
    },

    /** Appends a terminal event regardless of the owner, unless the log already ended; returns its id or null. */
    async finish(messageId: string, type: 'done' | 'error', data: Record<string, unknown>): Promise<string | null> {
      const id = await redis.eval(
        FINISH,
        2,
        stream(messageId),
        owner(messageId),
        type,
        JSON.stringify(data),
        options.maxEntries,
        options.finishedTtlSeconds,
        channel,
        messageId,
        controlChannel,
      );
      return typeof id === 'string' ? id : null;
    },

    /** The run token that may write this reply's log ('finished' once it ended), or null. */
    owner(messageId: string): Promise<string | null> {
      return redis.get(owner(messageId));
    },

    /** The newest event of the log, if any. */
    async last(messageId: string): Promise<ReplyEvent | undefined> {
      const [entry] = await redis.xrevrange(stream(messageId), '+', '-', 'COUNT', 1);
      return entry && toEvent(entry);
    },

    /** Whether the log exists (it expires some minutes after the reply ended). */
    async exists(messageId: string): Promise<boolean> {
      return (await redis.exists(stream(messageId))) === 1;
    },

    read,
  };
}
export type ReplyEvents = ReturnType<typeof createReplyEvents>;

/**
 * One subscriber connection per process fanning notifications out to in-process listeners by message id.
 * `subscriber` must be a dedicated connection (a subscribed Redis connection cannot run other commands).
 */
export function createReplyNotifications(subscriber: Redis, channel: string) {
  const listeners = new Map<string, Set<() => void>>();
  let subscribed: Promise<unknown> | undefined;

  subscriber.on('message', (from: string, messageId: string) => {
    if (from !== channel) return; // the connection may carry other channels too
    for (const listener of listeners.get(messageId) ?? []) listener();
  });

  /** Calls `listener` whenever the reply's log changes; returns the unsubscribe function. */
  function listen(messageId: string, listener: () => void): () => void {
    let set = listeners.get(messageId);
    if (!set) listeners.set(messageId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) listeners.delete(messageId);
    };
  }

  return {
    listen,

    /** Subscribes the connection (idempotent); resolves once notifications flow. */
    start(): Promise<unknown> {
      subscribed ??= subscriber.subscribe(channel);
      return subscribed;
    },

    /** Resolves on the next change of this reply's log, or after `timeoutMs` (false), or when `signal` aborts. */
    next(messageId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
      return new Promise((resolve) => {
        const finish = (changed: boolean) => {
          clearTimeout(timer);
          stop();
          signal?.removeEventListener('abort', onAbort);
          resolve(changed);
        };
        const onAbort = () => finish(false);
        const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
        const stop = listen(messageId, () => finish(true));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },

    async close(): Promise<void> {
      listeners.clear();
      await closeRedis(subscriber);
    },
  };
}
export type ReplyNotifications = ReturnType<typeof createReplyNotifications>;
