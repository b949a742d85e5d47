import { sql } from 'kysely';
import type { Db } from './db.js';
import { PENDING_STATUSES, type MessageRow } from '../db/database.js';

export interface NewExchange {
  /** The reply's id, chosen by the caller (its quota charge is named after it). */
  replyId?: string;
  chatroomId: string;
  userId: string;
  content: string;
  /** Set for a regenerated reply: the existing user message it answers (no new user message is stored). */
  replyToId?: string;
  quotaDay: string | null;
}

export function createMessageRepository(db: Db) {
  return {
    /** A chatroom's messages, newest first, keyset-paginated on the internal insertion sequence. */
    listForChatroom(chatroomId: string, limit: number, beforeSeq?: string): Promise<MessageRow[]> {
      let query = db.selectFrom('message').selectAll().where('chatroom_id', '=', chatroomId);
      if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq as never);
      return query.orderBy('seq', 'desc').limit(limit).execute();
    },

    findById(id: string): Promise<MessageRow | undefined> {
      return db.selectFrom('message').selectAll().where('id', '=', id).executeTakeFirst();
    },

    findInChatroom(chatroomId: string, id: string): Promise<MessageRow | undefined> {
      return db.selectFrom('message').selectAll().where('id', '=', id).where('chatroom_id', '=', chatroomId).executeTakeFirst();
    },

    latestAssistant(chatroomId: string): Promise<MessageRow | undefined> {
      return db
        .selectFrom('message')
        .selectAll()
        .where('chatroom_id', '=', chatroomId)
        .where('role', '=', 'assistant')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
    },

    async hasPendingReply(chatroomId: string): Promise<boolean> {
      return (await this.pendingReplyIn(chatroomId)) !== undefined;
    },

    /** Stores the user's message (unless regenerating) and its queued reply. */
    async insertExchange(input: NewExchange): Promise<{ userMessage: MessageRow; reply: MessageRow }> {
      const userMessage = input.replyToId
        ? await db.selectFrom('message').selectAll().where('id', '=', input.replyToId).executeTakeFirstOrThrow()
        : await db
            .insertInto('message')
            .values({ chatroom_id: input.chatroomId, user_id: input.userId, role: 'user', status: 'completed', content: input.content, reply_to_id: null, completed_at: new Date() })
            .returningAll()
            .executeTakeFirstOrThrow();
      const reply = await db
        .insertInto('message')
        .values({
          ...(input.replyId ? { id: input.replyId } : {}),
          chatroom_id: input.chatroomId,
          user_id: input.userId,
          role: 'assistant',
          status: 'queued',
          reply_to_id: userMessage.id,
          quota_day: input.quotaDay,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { userMessage, reply };
    },

    /**
     * Takes a pending reply for one worker run: it becomes `generating`, its text restarts from empty, and
     * `token` becomes the only run allowed to write it. Undefined when the reply already ended (or is gone).
     */
    claim(id: string, token: string): Promise<MessageRow | undefined> {
      return db
        .updateTable('message')
        .set((eb) => ({ status: 'generating', worker_token: token, content: '', attempts: eb('attempts', '+', 1), updated_at: new Date() }))
        .where('id', '=', id)
        .where('status', 'in', PENDING_STATUSES)
        .returningAll()
        .executeTakeFirst();
    },

    /** Persists partial text; false when the run no longer owns the reply (cancelled, deleted, taken over). */
    async saveProgress(id: string, token: string, content: string): Promise<boolean> {
      const result = await db
        .updateTable('message')
        .set({ content, updated_at: new Date() })
        .where('id', '=', id)
        .where('worker_token', '=', token)
        .where('status', '=', 'generating')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    complete(
      id: string,
      token: string,
      result: { content: string; inputTokens: number; outputTokens: number; model: string },
    ): Promise<MessageRow | undefined> {
      const now = new Date();
      return db
        .updateTable('message')
        .set({
          status: 'completed',
          content: result.content,
          input_tokens: result.inputTokens,
          output_tokens: result.outputTokens,
          model: result.model,
          completed_at: now,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('worker_token', '=', token)
        .where('status', '=', 'generating')
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * Ends a pending reply as failed. `token` null: fail it whoever owns it (the queue gave up on the job).
     * `content`: the text it ends with (unchanged when omitted). A reply that ends with no text has its quota unit
     * refunded, recorded in the same update (so a failed reply is never seen unrefunded) and marked pending until
     * the caller has given the unit back in Redis (`refundApplied`).
     */
    fail(id: string, token: string | null, error: { code: string; message: string; content?: string }): Promise<MessageRow | undefined> {
      const now = new Date();
      const finalContent = error.content !== undefined ? sql`${error.content}::text` : sql.ref('content');
      const refunds = sql<boolean>`(quota_day is not null and refunded_at is null and ${finalContent} = '')`;
      let query = db
        .updateTable('message')
        .set({
          status: 'failed',
          error_code: error.code,
          error_message: error.message,
          ...(error.content !== undefined ? { content: error.content } : {}),
          refunded_at: sql<Date>`case when ${refunds} then now() else refunded_at end`,
          quota_refund_pending: sql<boolean>`case when ${refunds} then true else quota_refund_pending end`,
          completed_at: now,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('status', 'in', PENDING_STATUSES);
      if (token) query = query.where('worker_token', '=', token);
      return query.returningAll().executeTakeFirst();
    },

    /** The refund of a failed reply has reached the Redis counter. */
    async refundApplied(id: string): Promise<void> {
      await db.updateTable('message').set({ quota_refund_pending: false }).where('id', '=', id).where('quota_refund_pending', '=', true).execute();
    },

    /** Refunds recorded in Postgres that have not reached the Redis counter yet (Redis refused them), oldest first. */
    findPendingRefunds(limit: number): Promise<Array<Pick<MessageRow, 'id' | 'user_id' | 'quota_day'>>> {
      return db
        .selectFrom('message')
        .select(['id', 'user_id', 'quota_day'])
        .where('quota_refund_pending', '=', true)
        .orderBy('updated_at')
        .limit(limit)
        .execute();
    },

    /**
     * Quota units charged to a user on a UTC day that the Redis counter must hold: every charged reply, except
     * those refunded, unless their refund has yet to reach the counter (it will be taken off when it does).
     */
    async countCharged(userId: string, day: string): Promise<number> {
      const row = await db
        .selectFrom('message')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', userId)
        .where('quota_day', '=', day)
        .where((eb) => eb.or([eb('refunded_at', 'is', null), eb('quota_refund_pending', '=', true)]))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Stops a pending reply where it is (status `cancelled`); undefined when it had already ended. */
    cancel(id: string, partialText: string | undefined): Promise<MessageRow | undefined> {
      const now = new Date();
      return db
        .updateTable('message')
        .set({ status: 'cancelled', completed_at: now, updated_at: now, ...(partialText !== undefined ? { content: partialText } : {}) })
        .where('id', '=', id)
        .where('status', 'in', PENDING_STATUSES)
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * Usage of a reply that was cancelled while this run owned it. A cancel stops the run before it stores the
     * reply as cancelled, so the run may get here first: the row is then still `generating` under its token.
     */
    async recordCancelledUsage(id: string, token: string, usage: { inputTokens: number; outputTokens: number; model: string }): Promise<void> {
      await db
        .updateTable('message')
        .set({ input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, model: usage.model })
        .where('id', '=', id)
        .where('worker_token', '=', token)
        .where('status', 'in', ['cancelled', 'generating'])
        .where('input_tokens', 'is', null)
        .execute();
    },

    pendingReplyIn(chatroomId: string): Promise<Pick<MessageRow, 'id'> | undefined> {
      return db
        .selectFrom('message')
        .select('id')
        .where('chatroom_id', '=', chatroomId)
        .where('role', '=', 'assistant')
        .where('status', 'in', PENDING_STATUSES)
        .executeTakeFirst();
    },

    /** The chatroom's first prompt and its first completed reply (what an automatic title summarises). */
    async firstExchange(chatroomId: string): Promise<{ prompt: string; reply: string } | undefined> {
      const reply = await db
        .selectFrom('message')
        .select(['content', 'reply_to_id'])
        .where('chatroom_id', '=', chatroomId)
        .where('role', '=', 'assistant')
        .where('status', '=', 'completed')
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      if (!reply?.reply_to_id) return undefined;
      const prompt = await db.selectFrom('message').select('content').where('id', '=', reply.reply_to_id).executeTakeFirst();
      return prompt && { prompt: prompt.content, reply: reply.content };
    },

    async countCompletedReplies(chatroomId: string): Promise<number> {
      const row = await db
        .selectFrom('message')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('chatroom_id', '=', chatroomId)
        .where('role', '=', 'assistant')
        .where('status', '=', 'completed')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** The conversation before a reply, newest first: the prompt builder walks back until its budget is spent. */
    historyBefore(chatroomId: string, beforeSeq: string, limit: number): Promise<Array<Pick<MessageRow, 'id' | 'role' | 'status' | 'content' | 'reply_to_id'>>> {
      return db
        .selectFrom('message')
        .select(['id', 'role', 'status', 'content', 'reply_to_id'])
        .where('chatroom_id', '=', chatroomId)
        .where('seq', '<', beforeSeq as never)
        .orderBy('seq', 'desc')
        .limit(limit)
        .execute();
    },

    /** Replies pending for longer than `olderThan` (the sweeper re-enqueues those whose job is gone). */
    findStalePending(olderThan: Date, limit: number): Promise<Array<Pick<MessageRow, 'id' | 'status'>>> {
      return db
        .selectFrom('message')
        .select(['id', 'status'])
        .where('status', 'in', PENDING_STATUSES)
        .where('updated_at', '<', olderThan)
        .orderBy('updated_at')
        .limit(limit)
        .execute();
    },

    /** Per-user token usage for a UTC day, from finished replies. */
    async usageOn(userId: string, day: string): Promise<{ inputTokens: number; outputTokens: number }> {
      const row = await db
        .selectFrom('message')
        .select([
          sql<string>`coalesce(sum(input_tokens), 0)`.as('input'),
          sql<string>`coalesce(sum(output_tokens), 0)`.as('output'),
        ])
        .where('user_id', '=', userId)
        .where('role', '=', 'assistant')
        .where('quota_day', '=', day)
        .executeTakeFirstOrThrow();
      return { inputTokens: Number(row.input), outputTokens: Number(row.output) };
    },
  };
}
export type MessageRepository = ReturnType<typeof createMessageRepository>;
