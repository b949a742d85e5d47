// The invariants every fault scenario ends with, checked against the database (the source of truth):
// each accepted send has exactly one reply, every reply reached a final state, no reply text is doubled,
// and the quota counter equals the units charged minus the units refunded.
import type { Kysely } from 'kysely';
import { stripMarkers } from '@gemini-chat/fakes';
import type { Database, MessageRow } from '@gemini-chat/shared';
import { sleep } from './procs.js';

export const FINAL = new Set(['completed', 'failed', 'cancelled']);

/** What a client learnt from one accepted (202/200) send. */
export interface Accepted {
  prompt: string;
  chatroomId: string;
  userMessageId: string;
  replyId: string;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The fake's default reply to `prompt`, exactly once (a doubled or foreign reply does not match). */
export function replyPattern(prompt: string): RegExp {
  return new RegExp(
    `^Fake Gemini reply to user turn \\d+\\. You said: "${escape(stripMarkers(prompt))}"\\. ` +
      'Every word of this reply is derived from the request, so tests can predict it exactly\\.$',
  );
}

/** Waits until every listed reply is final; fails naming the ones that are not. */
export async function waitFinal(db: Kysely<Database>, replyIds: string[], timeoutMs: number): Promise<MessageRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = replyIds.length ? await db.selectFrom('message').selectAll().where('id', 'in', replyIds).execute() : [];
    const pending = rows.filter((row) => !FINAL.has(row.status));
    if (rows.length === replyIds.length && pending.length === 0) return rows;
    if (Date.now() > deadline) {
      const missing = replyIds.filter((id) => !rows.some((row) => row.id === id));
      throw new Error(
        `replies not final after ${timeoutMs} ms: ${pending.map((r) => `${r.id}=${r.status}(attempts ${r.attempts})`).join(', ')}` +
          (missing.length ? `; missing rows: ${missing.join(', ')}` : ''),
      );
    }
    await sleep(100);
  }
}

export interface Audit {
  replies: MessageRow[];
  completed: number;
  failed: number;
  cancelled: number;
  refunded: number;
  problems: string[];
}

/**
 * Audits one user's messages against what the client was told. Returns the problems found (empty when the
 * invariants hold), so a test can show them all at once.
 */
export async function audit(db: Kysely<Database>, userId: string, accepted: Accepted[]): Promise<Audit> {
  const rows = await db.selectFrom('message').selectAll().where('user_id', '=', userId).orderBy('seq').execute();
  const replies = rows.filter((row) => row.role === 'assistant');
  const prompts = rows.filter((row) => row.role === 'user');
  const problems: string[] = [];

  const acceptedReplies = new Set(accepted.map((a) => a.replyId));
  if (acceptedReplies.size !== accepted.length) problems.push('the API handed out one reply id for two sends');
  for (const reply of replies) if (!acceptedReplies.has(reply.id)) problems.push(`reply ${reply.id} was stored but never accepted (duplicate?)`);
  for (const prompt of prompts) if (!accepted.some((a) => a.userMessageId === prompt.id)) problems.push(`prompt ${prompt.id} stored but never accepted`);
  const byPrompt = new Map<string, number>();
  for (const reply of replies) byPrompt.set(reply.reply_to_id ?? '', (byPrompt.get(reply.reply_to_id ?? '') ?? 0) + 1);
  for (const [promptId, count] of byPrompt) if (count > 1) problems.push(`prompt ${promptId} has ${count} replies`);

  for (const a of accepted) {
    const reply = replies.find((r) => r.id === a.replyId);
    if (!reply) {
      problems.push(`accepted reply ${a.replyId} (${a.prompt}) is missing`);
      continue;
    }
    if (!FINAL.has(reply.status)) problems.push(`reply ${a.replyId} (${a.prompt}) is still ${reply.status}`);
    if (reply.status === 'completed' && !replyPattern(a.prompt).test(reply.content)) {
      problems.push(`reply ${a.replyId} (${a.prompt}) has unexpected content: ${JSON.stringify(reply.content.slice(0, 300))}`);
    }
    if (reply.status === 'failed' && !reply.content && !reply.refunded_at) {
      problems.push(`reply ${a.replyId} (${a.prompt}) failed without text (${reply.error_code}) but its quota unit was not refunded`);
    }
    if (reply.refunded_at && reply.content) problems.push(`reply ${a.replyId} produced text but was refunded`);
  }
  return {
    replies,
    completed: replies.filter((r) => r.status === 'completed').length,
    failed: replies.filter((r) => r.status === 'failed').length,
    cancelled: replies.filter((r) => r.status === 'cancelled').length,
    refunded: replies.filter((r) => r.refunded_at).length,
    problems,
  };
}
