import { randomUUID } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import {
  isPending,
  type ChatroomRow,
  type Config,
  type Logger,
  type MessageRow,
  type ObjectStorage,
  type Quota,
  type ReplyEvents,
  type ReplyNotifications,
  type Store,
} from '@gemini-chat/shared';
import { classifyError, missingGeminiFileOf, ReplyError, timeoutFailure, type ReplyFailure } from '../gemini/classify-error.js';
import type { GroundingMetadata } from '@google/genai';
import { citationsOf, mergeGrounding } from '../gemini/citations.js';
import type { GeminiChunk, GeminiClient } from '../gemini/gemini-client.js';
import type { WorkerMetrics } from '../metrics.js';
import { createAttachmentParts } from '../prompt/attachment-parts.js';
import { createLiveLogBatcher } from './live-log-batcher.js';
import { assemblePrompt, planPrompt, plannedUserMessageIds, type BuiltPrompt } from '../prompt/build-prompt.js';

export interface JobContext {
  /** Attempts already made before this one. */
  attemptsMade: number;
  maxAttempts: number;
  /** Aborted when the worker shuts down or the job is cancelled. */
  signal: AbortSignal;
}

/** A failure that should be retried: carries the provider's requested delay to the queue's backoff. */
export class RetryableReplyError extends Error {
  constructor(readonly failure: ReplyFailure) {
    super(failure.message);
    this.name = 'RetryableReplyError';
  }
}

// Partial text is written to the row only for clients that poll GET …/messages/:id while a reply is generated
// (streams, cancel and retries read the Redis log): a write per reply every few seconds, not per chunk.
const PROGRESS_SAVE_INTERVAL_MS = 5000;

/** The reply was cancelled, deleted or taken over by a newer run: stop quietly. */
class LostOwnership extends Error {
  constructor() {
    super('reply no longer owned by this run');
    this.name = 'LostOwnership';
  }
}
const HISTORY_SCAN_LIMIT = 200;

export interface GenerateReplyDeps {
  store: Store;
  gemini: GeminiClient;
  /** Where attachments' bytes are read from. */
  storage: ObjectStorage;
  replyEvents: ReplyEvents;
  notifications: ReplyNotifications;
  /**
   * Called after a reply completed (e.g. to schedule the chatroom's automatic title). `firstReply`: it is the first
   * completed reply of a chatroom still titled by default (counted in the completion's transaction).
   */
  onCompleted: (room: ChatroomRow, firstReply: boolean) => Promise<void>;
  quota: Quota;
  config: Config;
  metrics: WorkerMetrics;
  log: Logger;
}

/**
 * Generates one assistant reply. Safe to run again after a crash or alongside a stale run: the run first takes
 * the reply with a fresh fencing token, and every later write (database and stream) names that token, so only
 * the newest run can change the reply, and a reply that already ended is left alone.
 */
export function createGenerateReplyHandler(deps: GenerateReplyDeps) {
  const { store, gemini, replyEvents, notifications, quota, config, metrics, log } = deps;
  const attachmentParts = createAttachmentParts({ attachments: store.attachments, storage: deps.storage, gemini, inlineMaxBytes: config.gemini.inlineMaxBytes, log });

  /**
   * Gives a failed reply's unit back to the Redis counter. Postgres recorded the refund as pending with the failure;
   * if Redis refuses now, the sweeper retries it (the refund is idempotent per reply), and a counter rebuilt meanwhile
   * still counts the unit, so it is neither lost nor given back twice.
   */
  async function giveBack(row: MessageRow): Promise<void> {
    if (!row.quota_refund_pending || !row.quota_day) return;
    try {
      await quota.refund(row.user_id, row.quota_day, row.id);
      await store.messages.refundApplied(row.id);
    } catch (err) {
      log.warn({ err, messageId: row.id }, 'quota refund not applied yet; the sweeper will retry it');
    }
  }

  /**
   * Final failure of this run: the message says why and keeps the text this run streamed, readers get a terminal
   * `error` event, the quota unit comes back when there was no text.
   */
  async function fail(messageId: string, token: string, failure: ReplyFailure, streamedText: string, streamedThoughts: string | null): Promise<void> {
    // With no text produced the unit is refunded; the refund is recorded in the same update as the failure.
    const failed = await store.messages.fail(messageId, token, {
      code: failure.code,
      message: failure.message,
      content: streamedText,
      thoughts: streamedThoughts,
    });
    if (!failed) return; // someone else ended it (cancelled, completed by a newer run, deleted)
    metrics.replies.inc({ status: 'failed' });
    await giveBack(failed);
    await replyEvents.append(messageId, token, 'error', { code: failure.code, message: failure.message });
  }

  /**
   * The queue gave up on the job outside the handler (a run that died or kept stalling, an error the handler let
   * through): ends the reply as failed, whoever owns it, keeping the text its readers were shown. The live log is
   * frozen first, so no stray run can add to it between the read and the write.
   */
  async function abandon(messageId: string, failure: ReplyFailure): Promise<void> {
    await replyEvents.stop(messageId);
    const shown = await replyEvents.shown(messageId); // none: no log left, the row keeps its last saved text
    const failed = await store.messages.fail(messageId, null, {
      code: failure.code,
      message: failure.message,
      ...(shown !== undefined ? { content: shown.text, thoughts: shown.thoughts || null } : {}),
    });
    if (failed) {
      metrics.replies.inc({ status: 'failed' });
      await giveBack(failed);
      await replyEvents.finish(messageId, 'error', { code: failure.code, message: failure.message });
      return;
    }
    // It had ended already; its run may have been refused the final log entry by the stop, so end the log as the
    // database says.
    const row = await store.messages.findById(messageId);
    if (row && !isPending(row.status)) {
      await replyEvents.finish(messageId, row.status === 'failed' ? 'error' : 'done', { status: row.status });
    }
  }

  async function handle(payload: { assistantMessageId: string }, ctx: JobContext): Promise<void> {
    const messageId = payload.assistantMessageId;
    const token = randomUUID();
    // The claim and everything the prompt is built from, in one transaction: one commit per run start, not five
    // separate statements each its own transaction.
    const claimed = await store.transaction(async (tx) => {
      const reply = await tx.messages.claim(messageId, token);
      if (!reply) return undefined;
      const room = await tx.chatrooms.findById(reply.chatroom_id);
      const promptMessage = reply.reply_to_id ? await tx.messages.findById(reply.reply_to_id) : undefined;
      if (!room || !promptMessage) return { reply, context: undefined };
      // Only the branch being answered: the path above the prompt (its other replies and other branches never leak in).
      const history = await tx.messages.pathAbove(promptMessage.id, HISTORY_SCAN_LIMIT);
      // Only prompts that can be part of the context (answered by a completed reply) have their attachments read.
      const answered = new Set(history.filter((m) => m.role === 'assistant' && m.status === 'completed').map((m) => m.reply_to_id));
      const userMessageIds = [promptMessage.id, ...history.filter((m) => m.role === 'user' && answered.has(m.id)).map((m) => m.id)];
      const attachmentRows = await tx.attachments.forMessages(userMessageIds);
      return { reply, context: { room, promptMessage, history, attachmentRows } };
    });
    if (!claimed) return; // already finished, cancelled or deleted: nothing to do
    const { reply } = claimed;
    // `attempts` counts every run that claimed the reply (queue retries, takeovers, sweeper re-enqueues), unlike
    // the job's attemptsMade, which starts again at 0 for a re-enqueued job. Any earlier run may have streamed text.
    // Refused while a cancel (or the queue giving up) is ending the reply: whoever stopped the log ends the row too.
    if (!(await replyEvents.claim(messageId, token, reply.attempts > 1))) return;
    if (!claimed.context) return; // deleted meanwhile (the cascade removes the reply too)
    const { room, promptMessage, history, attachmentRows } = claimed.context;

    // One controller stops the call for any reason: shutdown/cancel, overall deadline, silence, lost ownership.
    const abort = new AbortController();
    const stopOnJobAbort = () => abort.abort(ctx.signal.reason);
    ctx.signal.addEventListener('abort', stopOnJobAbort, { once: true });
    const deadline = setTimeout(() => abort.abort(new ReplyError(timeoutFailure('overall limit'))), config.gemini.timeoutMs);
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(new ReplyError(timeoutFailure('stream stalled'))), config.gemini.idleTimeoutMs);
    };

    // Cancel (or delete, or a takeover) changes the log's owner and publishes on the control channel: stop the
    // model call at once, not at the next chunk, which may be long in coming.
    const stopListening = notifications.listen(messageId, () => {
      replyEvents
        .owner(messageId)
        .then((current) => {
          if (current !== token) abort.abort(new LostOwnership());
        })
        .catch(() => {});
    });

    // What the reply is generated with was resolved and recorded when it was sent; a reply stored before replies
    // named their model uses the configured one.
    const model = reply.model ?? config.gemini.model;
    const settings = reply.settings ?? {};
    // Model output reaches the live log coalesced; `text` and `thoughts` are only what readers were shown (a failure
    // stores exactly that), read from the batcher once it has settled.
    const live = createLiveLogBatcher({
      windowMs: config.worker.deltaFlushMs,
      append: async (type, chunk) => Boolean(await replyEvents.append(messageId, token, type, { text: chunk })),
      onStop: (reason) => abort.abort(reason === 'lost' ? new LostOwnership() : reason),
    });
    let text = '';
    let thoughts = '';
    let grounding: GroundingMetadata | undefined;
    let usage = { inputTokens: 0, outputTokens: 0, thinkingTokens: 0 };
    let finishReason: string | undefined;
    let lostOwnership = false;
    let lastSave = Date.now();
    const started = performance.now();
    let firstTokenSeen = false;
    let prompt: BuiltPrompt | undefined;

    try {
      // Attachments are read, uploaded and counted under the reply's deadline and abort, and their failures are
      // classified like the model's (storage down: retried; a file Gemini could not process: failed, saying so).
      const attachments = attachmentParts.forReply(attachmentRows, model, abort.signal);
      const plan = planPrompt({
        systemPrompt: room.system_prompt,
        prompt: promptMessage.content,
        promptMessageId: promptMessage.id,
        history,
        budgetTokens: config.gemini.contextTokenBudget,
        attachmentTokens: await attachments.tokens(),
      });
      const build = async () => assemblePrompt(plan, await attachments.parts(plannedUserMessageIds(plan)));
      prompt = await build();

      // Gemini refuses a prompt naming a file it no longer has (deleted early, expired sooner than it said) before
      // answering anything: forget that copy, upload it again and make the call once more.
      const streamRefreshingFiles = async function* (): AsyncGenerator<GeminiChunk> {
        for (let refreshed = false; ; refreshed = true) {
          let streaming = false;
          try {
            for await (const chunk of gemini.stream({ ...prompt!, model, settings, signal: abort.signal })) {
              streaming = true;
              yield chunk;
            }
            return;
          } catch (err) {
            const missing = missingGeminiFileOf(err);
            if (streaming || refreshed || !missing || !(await attachments.forgetMissing(missing.fileId))) throw err;
            log.info({ messageId, geminiFile: missing.fileId }, 'Gemini no longer has an attachment; uploading it again');
            prompt = await build();
          }
        }
      };

      armIdle();
      for await (const chunk of streamRefreshingFiles()) {
        armIdle();
        if (chunk.blockReason) {
          throw new ReplyError({
            retryable: false,
            code: 'PROMPT_BLOCKED',
            message: `The prompt was blocked by the model's safety filters (${chunk.blockReason}).`,
            errorClass: 'blocked',
          });
        }
        if (chunk.usage) usage = chunk.usage;
        if (chunk.finishReason) finishReason = chunk.finishReason;
        if (chunk.grounding) grounding = mergeGrounding(grounding, chunk.grounding);
        // Thought summaries are logged like text, so a resumed stream replays them, but kept apart from it.
        if (chunk.thought && settings.showThoughts) live.push('thought', chunk.thought);
        if (live.lost) {
          lostOwnership = true;
          break;
        }
        if (!chunk.text) continue;
        if (!firstTokenSeen) {
          firstTokenSeen = true;
          metrics.geminiTimeToFirstToken.observe((performance.now() - started) / 1000);
        }
        live.push('delta', chunk.text);
        if (Date.now() - lastSave >= PROGRESS_SAVE_INTERVAL_MS) {
          lastSave = Date.now();
          // Only what readers were shown: a poll must never see text a stream has not.
          if (!(await store.messages.saveProgress(messageId, token, live.shown.delta, live.shown.thought || null))) {
            lostOwnership = true;
            break;
          }
        }
      }
      // Everything the model said is in the log before the reply is stored as complete (and before its done event).
      if (lostOwnership || !(await live.flush())) throw new LostOwnership();
      text = live.shown.delta;
      thoughts = live.shown.thought;
      if (!finishReason) {
        // The stream ended cleanly but without a finish reason: Google cut it short.
        throw new ReplyError({ retryable: true, code: 'MODEL_STREAM_INCOMPLETE', message: 'The model stream ended early.', errorClass: 'network' });
      }
      if (!text && ['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'RECITATION'].includes(finishReason)) {
        throw new ReplyError({
          retryable: false,
          code: 'RESPONSE_BLOCKED',
          message: `The reply was withheld by the model's safety filters (${finishReason}).`,
          errorClass: 'blocked',
        });
      }
      metrics.geminiLatency.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);

      // The completion is one transaction: a write that must land with it (e.g. a usage counter) goes inside. A
      // chatroom still titled by default learns there, too, whether this is its first completed reply.
      const completion = await store.transaction(async (tx) => {
        const completed = await tx.messages.complete(messageId, token, {
          content: text,
          ...usage,
          model,
          thoughts: thoughts || null,
          citations: settings.googleSearch ? citationsOf(grounding, text) : null,
        });
        if (!completed) return undefined;
        return { firstReply: room.title_source === 'default' && (await tx.messages.countCompletedReplies(room.id)) === 1 };
      });
      if (!completion) throw new LostOwnership(); // cancelled or taken over at the last moment
      metrics.replies.inc({ status: 'completed' });
      metrics.tokens.inc({ direction: 'input' }, usage.inputTokens);
      metrics.tokens.inc({ direction: 'output' }, usage.outputTokens);
      await replyEvents.append(messageId, token, 'done', { status: 'completed' });
      log.info({ messageId, attempt: ctx.attemptsMade + 1, droppedExchanges: prompt.droppedExchanges, usage }, 'reply completed');
      await deps.onCompleted(room, completion.firstReply).catch((err: unknown) => log.warn({ err, chatroomId: room.id }, 'could not schedule the title'));
    } catch (err) {
      // What readers were shown is final once the appends in flight are done; pending text was never shown.
      await live.settle();
      text = live.shown.delta;
      thoughts = live.shown.thought;
      const reason = abort.signal.aborted ? abort.signal.reason : err;
      if (reason instanceof LostOwnership || err instanceof LostOwnership) {
        abort.abort(new LostOwnership());
        metrics.geminiLatency.observe({ outcome: 'abandoned' }, (performance.now() - started) / 1000);
        // A cancelled reply keeps its partial text and still reports what it cost.
        const outputTokens = usage.outputTokens || (text ? Math.ceil([...text].length / 4) : 0);
        await store.messages.recordCancelledUsage(messageId, token, {
          inputTokens: usage.inputTokens || (prompt?.estimatedTokens ?? 0),
          outputTokens,
          thinkingTokens: usage.thinkingTokens,
          model,
        });
        log.info({ messageId }, 'reply stopped: cancelled, deleted or taken over');
        return;
      }
      if (ctx.signal.aborted && !(reason instanceof ReplyError)) {
        // Shutdown: leave the reply pending; the job is retried (or taken over) and starts afresh.
        throw new RetryableReplyError({ retryable: true, code: 'WORKER_STOPPED', message: 'The worker stopped.', errorClass: 'internal' });
      }
      const failure = classifyError(reason);
      metrics.geminiErrors.inc({ class: failure.errorClass });
      metrics.geminiLatency.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      const final = !failure.retryable || ctx.attemptsMade + 1 >= ctx.maxAttempts;
      log.warn({ messageId, attempt: ctx.attemptsMade + 1, final, code: failure.code, err }, 'reply attempt failed');
      if (!final) throw new RetryableReplyError(failure);
      await fail(messageId, token, failure, text, thoughts || null);
      // Recorded as a failed job (not retried) so the queue's own view matches the reply's.
      throw new UnrecoverableError(failure.code);
    } finally {
      void live.settle();
      stopListening();
      clearTimeout(deadline);
      clearTimeout(idle);
      ctx.signal.removeEventListener('abort', stopOnJobAbort);
    }
  }

  return { handle, abandon };
}
export type GenerateReplyHandler = ReturnType<typeof createGenerateReplyHandler>;
