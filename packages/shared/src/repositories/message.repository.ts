import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { CHATROOM_COLUMNS, MESSAGE_COLUMNS, messageColumnsOf } from './columns.js';
import type { Db } from './db.js';
import { PENDING_STATUSES, type ChatroomRow, type Citation, type MessageRow, type MessageWithSiblings, type ReplySettings } from '../db/database.js';
import type { AttachmentRow } from './file.repository.js';

export interface NewExchange {
  /** The reply's id, chosen by the caller (its quota charge is named after it). */
  replyId?: string;
  chatroomId: string;
  userId: string;
  content: string;
  /** For a new prompt: the reply it follows (null: a first prompt, the root of a new branch). */
  parentId?: string | null;
  /** Set for a regenerated reply: the existing user message it answers (no new user message is stored). */
  replyToId?: string;
  quotaDay: string | null;
  /** The model and resolved settings the reply is to be generated with. */
  model: string;
  settings: ReplySettings;
}

/** A message brought in by an import: finished, with its original time. */
export interface ImportedMessage {
  id: string;
  chatroomId: string;
  userId: string;
  role: 'user' | 'assistant';
  status: 'completed' | 'failed' | 'cancelled';
  content: string;
  /** A reply's prompt, a prompt's previous reply (null: a first prompt). */
  parentId: string | null;
  error: { code: string; message: string } | null;
  usage: { inputTokens: number; outputTokens: number; thinkingTokens: number } | null;
  model: string | null;
  settings: ReplySettings | null;
  thoughts: string | null;
  citations: Citation[] | null;
  createdAt: Date;
}

/** A message of the worker's context: the path above the prompt being answered. */
export type PathMessage = Pick<MessageRow, 'id' | 'role' | 'status' | 'content' | 'reply_to_id'>;

/**
 * The sibling columns of the message aliased `alias`: its place among the messages with the same parent, in
 * creation order. Each row costs one index range scan (message_parent_seq_idx, or message_root_seq_idx for first
 * prompts), so a page of a branch gets its sibling info in the same query.
 */
export function siblingsOf(alias: string): RawBuilder<unknown> {
  const m = sql.raw(alias);
  return sql`cross join lateral (
    select w.sibling_index, w.sibling_count, w.previous_sibling_id, w.next_sibling_id
    from (
      select sib.id,
        (row_number() over o)::int as sibling_index,
        (count(*) over ())::int as sibling_count,
        lag(sib.id) over o as previous_sibling_id,
        lead(sib.id) over o as next_sibling_id
      from (
        select id, seq from message where ${m}.parent_id is not null and parent_id = ${m}.parent_id
        union all
        select id, seq from message where ${m}.parent_id is null and chatroom_id = ${m}.chatroom_id and parent_id is null
      ) sib
      window o as (order by sib.seq)
    ) w
    where w.id = ${m}.id
  ) s`;
}

/**
 * The branch through `start`, walking parent links up from it: `start` first, then its parent, and so on, at most
 * `limit` rows (null: to the root). One recursive query whose every step is a primary-key lookup, so its cost is
 * the page, not the size of the tree.
 */
function walkUp(chatroomId: string, start: RawBuilder<unknown>, limit: number | null): RawBuilder<MessageWithSiblings> {
  const bound = limit === null ? sql`` : sql`where b.depth < ${limit}`;
  return sql<MessageWithSiblings>`
    with recursive branch as (
      select ${messageColumnsOf('m')}, 1 as depth from message m where m.chatroom_id = ${chatroomId} and m.id = (${start})
      union all
      select ${messageColumnsOf('m')}, b.depth + 1 from branch b join message m on m.id = b.parent_id and m.chatroom_id = b.chatroom_id ${bound}
    )
    select b.*, s.* from branch b ${siblingsOf('b')}
    order by b.depth`;
}

/**
 * Adds the tokens of the reply rows in `source` (a CTE of the same statement with user_id, quota_day, input_tokens
 * and output_tokens) to their user's counter for the quota day. Replies without a quota day (imports, copies) are
 * not charged, so not counted; no row in `source` (the run lost the reply) adds nothing.
 */
function countTokens(source: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`
    insert into user_token_usage as u (user_id, day, input_tokens, output_tokens)
    select user_id, quota_day, coalesce(input_tokens, 0), coalesce(output_tokens, 0) from ${source} where quota_day is not null
    on conflict (user_id, day) do update
      set input_tokens = u.input_tokens + excluded.input_tokens, output_tokens = u.output_tokens + excluded.output_tokens`;
}

export function createMessageRepository(db: Db) {
  return {
    /**
     * GET /chatroom/:id in one statement: the user's chatroom, the newest `limit` messages of its current branch
     * (walked up from the current message, each step a primary-key lookup, so a chatroom of 10,000 messages costs
     * what a short one does) with their sibling info, and the files attached to them. Undefined when the chatroom
     * is missing or someone else's.
     */
    async chatroomPage(
      userId: string,
      chatroomId: string,
      limit: number,
    ): Promise<{ room: ChatroomRow; messages: MessageWithSiblings[]; attachments: AttachmentRow[] } | undefined> {
      const roomColumns = sql.join(CHATROOM_COLUMNS.map((column) => sql`r.${sql.ref(column)} as ${sql.ref(`room_${column}`)}`));
      // Planned as one set, not per row: the walk carries only ids, the siblings of the whole page come from one
      // window over their parents' children (and the chatroom's first prompts when the page reaches the root), and
      // the wide message columns are read once at the end. A lateral sibling subquery per row cost Postgres more
      // time to parse and plan than to run (measured: 1.4 ms a call, against 1.0 ms for this shape).
      const { rows } = await sql<Record<string, unknown>>`
        with recursive room as (
          select ${sql.join(CHATROOM_COLUMNS.map((column) => sql.ref(column)))} from chatroom where id = ${chatroomId} and user_id = ${userId}
        ), branch as (
          select m.id, m.parent_id, m.chatroom_id, 1 as depth from room r join message m on m.id = r.current_message_id and m.chatroom_id = r.id
          union all
          select m.id, m.parent_id, m.chatroom_id, b.depth + 1 from branch b join message m on m.id = b.parent_id and m.chatroom_id = b.chatroom_id
          where b.depth < ${limit}
        ), sibling as (
          select s.id, (row_number() over o)::int as sibling_index, (count(*) over (partition by s.parent_id))::int as sibling_count,
            lag(s.id) over o as previous_sibling_id, lead(s.id) over o as next_sibling_id
          from (
            select m.id, m.seq, m.parent_id from message m where m.parent_id in (select parent_id from branch)
            union all
            select m.id, m.seq, m.parent_id from room r join message m on m.chatroom_id = r.id and m.parent_id is null
            where exists (select 1 from branch where parent_id is null)
          ) s
          window o as (partition by s.parent_id order by s.seq)
        )
        select ${roomColumns}, ${messageColumnsOf('m')}, s.sibling_index, s.sibling_count, s.previous_sibling_id, s.next_sibling_id,
          b.depth, (
            select json_agg(json_build_object('message_id', a.message_id, 'position', a.position, 'id', f.id, 'name', f.name,
                                              'mime_type', f.mime_type, 'size_bytes', f.size_bytes::text, 'deleted_at', f.deleted_at)
                            order by a.position)
            from message_attachment a join file f on f.id = a.file_id where a.message_id = b.id
          ) as page_attachments
        from room r left join branch b on true left join message m on m.id = b.id left join sibling s on s.id = b.id
        order by b.depth`.execute(db);
      const first = rows[0];
      if (!first) return undefined;
      const room = Object.fromEntries(CHATROOM_COLUMNS.map((column) => [column, first[`room_${column}`]])) as unknown as ChatroomRow;
      const messages: MessageWithSiblings[] = [];
      const attachments: AttachmentRow[] = [];
      for (const row of rows) {
        if (row.id === null) continue; // the chatroom has no message yet
        const { page_attachments: attached, depth: _depth, ...message } = row;
        for (const key of CHATROOM_COLUMNS) delete message[`room_${key}`];
        messages.push(message as unknown as MessageWithSiblings);
        for (const a of (attached as Array<Omit<AttachmentRow, 'deleted_at'> & { deleted_at: string | null }> | null) ?? []) {
          attachments.push({ ...a, deleted_at: a.deleted_at === null ? null : new Date(a.deleted_at) });
        }
      }
      return { room, messages, attachments };
    },

    /**
     * A page of a branch, leaf first: from `leafId` itself, or from the parent of `before` (the last message of the
     * previous page). Each message carries its sibling info.
     */
    async branch(chatroomId: string, from: { leafId: string } | { before: string }, limit: number): Promise<MessageWithSiblings[]> {
      const start =
        'leafId' in from
          ? sql`select ${from.leafId}::uuid`
          : sql`select parent_id from message where id = ${from.before}::uuid and chatroom_id = ${chatroomId}`;
      return (await walkUp(chatroomId, start, limit).execute(db)).rows;
    },

    /** The whole path from the root down to `messageId` (a fork copies it), leaf first; empty when not in the chatroom. */
    async pathTo(chatroomId: string, messageId: string): Promise<MessageWithSiblings[]> {
      return (await walkUp(chatroomId, sql`select ${messageId}::uuid`, null).execute(db)).rows;
    },

    /** Messages of a chatroom with their sibling info, in the order of `ids` (missing ones left out). */
    async findWithSiblings(chatroomId: string, ids: string[]): Promise<MessageWithSiblings[]> {
      const { rows } = await sql<MessageWithSiblings>`
        select ${messageColumnsOf('m')}, s.* from message m ${siblingsOf('m')}
        where m.chatroom_id = ${chatroomId} and m.id = any(${ids}::uuid[])`.execute(db);
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },

    /**
     * The newest leaf at or beneath a message of the chatroom (the newest descendant is always a leaf: a child is
     * newer than its parent); undefined when the message is not in the chatroom.
     */
    async newestLeafUnder(chatroomId: string, messageId: string): Promise<string | undefined> {
      const { rows } = await sql<{ id: string }>`
        with recursive below as (
          select id, seq from message where id = ${messageId}::uuid and chatroom_id = ${chatroomId}
          union all
          select m.id, m.seq from below b join message m on m.parent_id = b.id
        )
        select id from below order by seq desc limit 1`.execute(db);
      return rows[0]?.id;
    },

    /**
     * The conversation above a prompt, newest first: its parent reply, that reply's prompt, and so on up to the
     * root, at most `limit` messages. Other branches never appear in it.
     */
    async pathAbove(promptId: string, limit: number): Promise<PathMessage[]> {
      const { rows } = await sql<PathMessage>`
        with recursive path as (
          select id, role, status, content, reply_to_id, parent_id, 1 as depth
          from message where id = (select parent_id from message where id = ${promptId}::uuid)
          union all
          select m.id, m.role, m.status, m.content, m.reply_to_id, m.parent_id, p.depth + 1
          from path p join message m on m.id = p.parent_id
          where p.depth < ${limit}
        )
        select id, role, status, content, reply_to_id from path order by depth`.execute(db);
      return rows;
    },

    /**
     * Copies a path (oldest first) into another chatroom: new ids, the same content, status and usage, parent and
     * prompt links pointing at the copies. Copies are not charged (no quota day). Returns the copies, oldest first.
     */
    async copyPath(path: MessageRow[], chatroomId: string): Promise<MessageRow[]> {
      const newIds = new Map(path.map((row) => [row.id, randomUUID()]));
      const copies: MessageRow[] = [];
      // Bounded batches keep each statement well under Postgres's 65,535 parameters.
      for (let i = 0; i < path.length; i += 1000) {
        const values = path.slice(i, i + 1000).map((row) => ({
          id: newIds.get(row.id)!,
          chatroom_id: chatroomId,
          user_id: row.user_id,
          role: row.role,
          status: row.status,
          content: row.content,
          parent_id: row.parent_id ? (newIds.get(row.parent_id) ?? null) : null,
          reply_to_id: row.reply_to_id ? (newIds.get(row.reply_to_id) ?? null) : null,
          error_code: row.error_code,
          error_message: row.error_message,
          input_tokens: row.input_tokens,
          output_tokens: row.output_tokens,
          model: row.model,
          settings: row.settings === null ? null : JSON.stringify(row.settings),
          thoughts: row.thoughts,
          citations: row.citations === null ? null : JSON.stringify(row.citations),
          thinking_tokens: row.thinking_tokens,
          created_at: row.created_at,
          updated_at: row.updated_at,
          completed_at: row.completed_at,
        }));
        copies.push(...(await db.insertInto('message').values(values).returning(MESSAGE_COLUMNS).execute()));
      }
      return copies;
    },

    findById(id: string): Promise<MessageRow | undefined> {
      return db.selectFrom('message').select(MESSAGE_COLUMNS).where('id', '=', id).executeTakeFirst();
    },

    findInChatroom(chatroomId: string, id: string): Promise<MessageRow | undefined> {
      return db.selectFrom('message').select(MESSAGE_COLUMNS).where('id', '=', id).where('chatroom_id', '=', chatroomId).executeTakeFirst();
    },

    async hasPendingReply(chatroomId: string): Promise<boolean> {
      return (await this.pendingReplyIn(chatroomId)) !== undefined;
    },

    /** Stores the user's message (unless regenerating) and its queued reply. */
    async insertExchange(input: NewExchange): Promise<{ userMessage: MessageRow; reply: MessageRow }> {
      const replyTo = (userMessageId: string) => ({
        id: input.replyId ?? randomUUID(),
        chatroom_id: input.chatroomId,
        user_id: input.userId,
        role: 'assistant' as const,
        status: 'queued' as const,
        reply_to_id: userMessageId,
        parent_id: userMessageId,
        quota_day: input.quotaDay,
        model: input.model,
        settings: JSON.stringify(input.settings),
      });
      if (input.replyToId) {
        const userMessage = await db.selectFrom('message').select(MESSAGE_COLUMNS).where('id', '=', input.replyToId).executeTakeFirstOrThrow();
        const reply = await db.insertInto('message').values(replyTo(userMessage.id)).returning(MESSAGE_COLUMNS).executeTakeFirstOrThrow();
        return { userMessage, reply };
      }
      // Both rows in one statement (the prompt's id chosen here so the reply can name it): the rows get their `seq`
      // in the order listed, the reply's foreign keys are checked at the end of the statement, and a column one row
      // leaves out is its default (Kysely writes DEFAULT).
      const promptId = randomUUID();
      const prompt = {
        id: promptId,
        chatroom_id: input.chatroomId,
        user_id: input.userId,
        role: 'user' as const,
        status: 'completed' as const,
        content: input.content,
        reply_to_id: null,
        parent_id: input.parentId ?? null,
        completed_at: new Date(),
      };
      const rows = await db
        .insertInto('message')
        .values([prompt, replyTo(promptId)])
        .returning(MESSAGE_COLUMNS)
        .execute();
      const userMessage = rows.find((row) => row.id === promptId);
      const reply = rows.find((row) => row.id !== promptId);
      if (!userMessage || !reply) throw new Error('the exchange was not stored');
      return { userMessage, reply };
    },

    /**
     * Takes a pending reply for one worker run: it becomes `generating`, its text restarts from empty, and
     * `token` becomes the only run allowed to write it. Undefined when the reply already ended (or is gone).
     */
    claim(id: string, token: string): Promise<MessageRow | undefined> {
      return db
        .updateTable('message')
        .set((eb) => ({ status: 'generating', worker_token: token, content: '', thoughts: null, citations: null, attempts: eb('attempts', '+', 1), updated_at: new Date() }))
        .where('id', '=', id)
        .where('status', 'in', PENDING_STATUSES)
        .returning(MESSAGE_COLUMNS)
        .executeTakeFirst();
    },

    /** Persists partial text (and thoughts); false when the run no longer owns the reply (cancelled, deleted, taken over). */
    async saveProgress(id: string, token: string, content: string, thoughts: string | null = null): Promise<boolean> {
      const result = await db
        .updateTable('message')
        .set({ content, thoughts, updated_at: new Date() })
        .where('id', '=', id)
        .where('worker_token', '=', token)
        .where('status', '=', 'generating')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    /**
     * Stores a finished reply, and adds its tokens to the user's counter for its quota day in the same statement
     * (GET /user/me reads that counter instead of summing the day's replies).
     */
    async complete(
      id: string,
      token: string,
      result: {
        content: string;
        inputTokens: number;
        outputTokens: number;
        model: string;
        thinkingTokens?: number;
        thoughts?: string | null;
        citations?: Citation[] | null;
      },
    ): Promise<MessageRow | undefined> {
      const now = new Date();
      const done = db
        .updateTable('message')
        .set({
          status: 'completed',
          content: result.content,
          input_tokens: result.inputTokens,
          output_tokens: result.outputTokens,
          thinking_tokens: result.thinkingTokens ?? 0,
          model: result.model,
          thoughts: result.thoughts ?? null,
          citations: result.citations ? JSON.stringify(result.citations) : null,
          completed_at: now,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('worker_token', '=', token)
        .where('status', '=', 'generating')
        .returning(MESSAGE_COLUMNS);
      const { rows } = await sql<MessageRow>`
        with done as (${done}), counted as (${countTokens(sql`done`)})
        select * from done`.execute(db);
      return rows[0];
    },

    /**
     * Ends a pending reply as failed. `token` null: fail it whoever owns it (the queue gave up on the job).
     * `content`: the text it ends with (unchanged when omitted). A reply that ends with no text has its quota unit
     * refunded, recorded in the same update (so a failed reply is never seen unrefunded) and marked pending until
     * the caller has given the unit back in Redis (`refundApplied`).
     */
    fail(
      id: string,
      token: string | null,
      error: { code: string; message: string; content?: string; thoughts?: string | null },
    ): Promise<MessageRow | undefined> {
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
          ...(error.thoughts !== undefined ? { thoughts: error.thoughts } : {}),
          refunded_at: sql<Date>`case when ${refunds} then now() else refunded_at end`,
          quota_refund_pending: sql<boolean>`case when ${refunds} then true else quota_refund_pending end`,
          completed_at: now,
          updated_at: now,
        })
        .where('id', '=', id)
        .where('status', 'in', PENDING_STATUSES);
      if (token) query = query.where('worker_token', '=', token);
      return query.returning(MESSAGE_COLUMNS).executeTakeFirst();
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
    cancel(id: string, partialText: string | undefined, thoughts?: string | null): Promise<MessageRow | undefined> {
      const now = new Date();
      return db
        .updateTable('message')
        .set({
          status: 'cancelled',
          completed_at: now,
          updated_at: now,
          ...(partialText !== undefined ? { content: partialText } : {}),
          ...(thoughts !== undefined ? { thoughts } : {}),
        })
        .where('id', '=', id)
        .where('status', 'in', PENDING_STATUSES)
        .returning(MESSAGE_COLUMNS)
        .executeTakeFirst();
    },

    /**
     * Usage of a reply that was cancelled while this run owned it. A cancel stops the run before it stores the
     * reply as cancelled, so the run may get here first: the row is then still `generating` under its token.
     */
    async recordCancelledUsage(
      id: string,
      token: string,
      usage: { inputTokens: number; outputTokens: number; thinkingTokens: number; model: string },
    ): Promise<void> {
      const recorded = db
        .updateTable('message')
        .set({ input_tokens: usage.inputTokens, output_tokens: usage.outputTokens, thinking_tokens: usage.thinkingTokens, model: usage.model })
        .where('id', '=', id)
        .where('worker_token', '=', token)
        .where('status', 'in', ['cancelled', 'generating'])
        .where('input_tokens', 'is', null)
        .returning(['user_id', 'quota_day', 'input_tokens', 'output_tokens']);
      // The counter counts the usage of cancelled replies too, in the same statement.
      await sql`with done as (${recorded}) ${countTokens(sql`done`)}`.execute(db);
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

    /** Per-user token usage for a UTC day (the counter kept by complete() and recordCancelledUsage()). */
    async usageOn(userId: string, day: string): Promise<{ inputTokens: number; outputTokens: number }> {
      const row = await db
        .selectFrom('user_token_usage')
        .select(['input_tokens', 'output_tokens'])
        .where('user_id', '=', userId)
        .where('day', '=', day)
        .executeTakeFirst();
      return { inputTokens: Number(row?.input_tokens ?? 0), outputTokens: Number(row?.output_tokens ?? 0) };
    },

    /**
     * Stores imported messages, in the order given (parents first: their insertion order is the siblings' order).
     * Imports are finished messages, never charged (no quota day), with the ids the caller chose.
     */
    async insertImported(messages: ImportedMessage[]): Promise<void> {
      // Bounded batches keep each statement well under Postgres's 65,535 parameters.
      for (let i = 0; i < messages.length; i += 1000) {
        const values = messages.slice(i, i + 1000).map((m) => ({
          id: m.id,
          chatroom_id: m.chatroomId,
          user_id: m.userId,
          role: m.role,
          status: m.status,
          content: m.content,
          parent_id: m.parentId,
          reply_to_id: m.role === 'assistant' ? m.parentId : null,
          error_code: m.error?.code ?? null,
          error_message: m.error?.message ?? null,
          input_tokens: m.usage?.inputTokens ?? null,
          output_tokens: m.usage?.outputTokens ?? null,
          thinking_tokens: m.usage?.thinkingTokens ?? null,
          model: m.model,
          settings: m.settings === null ? null : JSON.stringify(m.settings),
          thoughts: m.thoughts,
          citations: m.citations === null ? null : JSON.stringify(m.citations),
          created_at: m.createdAt,
          updated_at: m.createdAt,
          completed_at: m.createdAt,
        }));
        await db.insertInto('message').values(values).execute();
      }
    },
  };
}
export type MessageRepository = ReturnType<typeof createMessageRepository>;
