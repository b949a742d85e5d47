// A steady stream of sends, as well-behaved clients produce it: one conversation per chatroom, each prompt sent
// with an Idempotency-Key and retried with the same key after a 503 or a dropped connection, then its reply
// polled until it is final before the next prompt. Every HTTP exchange is recorded (status, time, code).
import { randomUUID } from 'node:crypto';
import { http, type HttpResult, type SignedIn } from '@gemini-chat/testkit';
import type { Accepted } from './ledger.js';
import { sleep } from './procs.js';

export interface Exchange {
  /** A send, a poll of its reply, or one of the plain reads of `startReads`. */
  kind: 'send' | 'poll' | 'read';
  room: number;
  status: number;
  ms: number;
  startedAt: number;
  endedAt: number;
  code?: string;
  contentType: string | null;
  retryAfter: string | null;
  error?: string;
}

export interface LoadOptions {
  /** Appended to every prompt (e.g. fake Gemini pacing markers). */
  suffix: string;
  /** Label of this load, part of every prompt. */
  tag: string;
  /** Give up polling one reply after this long (the audit then reports it as not final). */
  pollTimeoutMs?: number;
}

export interface Load {
  exchanges: Exchange[];
  /** One entry per logical send that was accepted (replays of the same key count once). */
  accepted: Accepted[];
  /** Accepted sends per room index. */
  acceptedIn(room: number, since?: number): number;
  stop(): Promise<void>;
}

function record(kind: Exchange['kind'], room: number, res: HttpResult, startedAt: number): Exchange {
  let code: string | undefined;
  if (res.status >= 400) {
    try {
      code = (res.json() as { code?: string }).code;
    } catch {
      code = undefined;
    }
  }
  return {
    kind,
    room,
    status: res.status,
    ms: res.ms,
    startedAt,
    endedAt: Date.now(),
    ...(code ? { code } : {}),
    contentType: res.headers.get('content-type'),
    retryAfter: res.headers.get('retry-after'),
    ...(res.error ? { error: res.error } : {}),
  };
}

export function startLoad(base: string, user: SignedIn, chatroomIds: string[], options: LoadOptions): Load {
  const exchanges: Exchange[] = [];
  const accepted: (Accepted & { room: number; at: number })[] = [];
  let stopped = false;

  async function conversation(room: number, chatroomId: string) {
    let turn = 0;
    while (!stopped) {
      const prompt = `${options.tag} room ${room} turn ${turn++} ${options.suffix}`.trim();
      const key = randomUUID();
      let reply: { id: string; userMessageId: string } | undefined;
      // Send, retrying the same logical request (same key, same body) until it is accepted or we stop.
      while (!stopped && !reply) {
        const startedAt = Date.now();
        const res = await http(base, 'POST', `/chatroom/${chatroomId}/message`, {
          headers: { ...user.auth, 'idempotency-key': key },
          body: { content: prompt },
          timeoutMs: 10_000,
        });
        exchanges.push(record('send', room, res, startedAt));
        if (res.status === 200 || res.status === 202) {
          const body = res.json() as { reply: { id: string }; userMessage: { id: string } };
          reply = { id: body.reply.id, userMessageId: body.userMessage.id };
        } else {
          await sleep(res.status === 409 ? 200 : 100);
        }
      }
      if (!reply) return;
      accepted.push({ prompt, chatroomId, replyId: reply.id, userMessageId: reply.userMessageId, room, at: Date.now() });
      // Poll the reply until it is final (reads keep working through a Redis outage: they only need Postgres).
      const deadline = Date.now() + (options.pollTimeoutMs ?? 20_000);
      while (Date.now() < deadline) {
        const startedAt = Date.now();
        const res = await http(base, 'GET', `/chatroom/${chatroomId}/messages/${reply.id}`, { headers: user.auth, timeoutMs: 10_000 });
        exchanges.push(record('poll', room, res, startedAt));
        if (res.status === 200 && ['completed', 'failed', 'cancelled'].includes((res.json() as { status: string }).status)) break;
        await sleep(100);
      }
    }
  }

  const running = Promise.all(chatroomIds.map((id, room) => conversation(room, id)));
  return {
    exchanges,
    accepted,
    acceptedIn: (room, since = 0) => accepted.filter((a) => a.room === room && a.at >= since).length,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/**
 * Plain reads beside the load, as other screens of the same clients make them: each path is read in a loop of its
 * own (100 ms apart) until stopped, every exchange recorded (`room` is the path's index).
 */
export function startReads(base: string, user: SignedIn, paths: string[]): { exchanges: Exchange[]; stop(): Promise<void> } {
  const exchanges: Exchange[] = [];
  let stopped = false;
  async function reader(index: number, path: string) {
    while (!stopped) {
      const startedAt = Date.now();
      const res = await http(base, 'GET', path, { headers: user.auth, timeoutMs: 10_000 });
      exchanges.push(record('read', index, res, startedAt));
      await sleep(100);
    }
  }
  const running = Promise.all(paths.map((path, index) => reader(index, path)));
  return {
    exchanges,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** Exchanges that are neither a success nor a documented refusal: 5xx other than 503, hangs, dropped connections. */
export function misbehaviours(exchanges: Exchange[], maxMs: number): string[] {
  const found: string[] = [];
  for (const e of exchanges) {
    const what = `${e.kind} room ${e.room} at +${e.startedAt % 100_000} ms`;
    if (e.status === 0) found.push(`${what}: no answer (${e.error}) after ${Math.round(e.ms)} ms`);
    else if (e.status >= 500 && e.status !== 503) found.push(`${what}: ${e.status} ${e.code ?? ''}`);
    if (e.ms > maxMs) found.push(`${what}: took ${Math.round(e.ms)} ms (${e.status})`);
    if (e.status === 503 && (!e.contentType?.startsWith('application/problem+json') || !e.retryAfter)) {
      found.push(`${what}: 503 without problem+json or Retry-After (${e.contentType}, ${e.retryAfter})`);
    }
  }
  return found;
}
