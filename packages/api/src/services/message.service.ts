import { createHash, randomUUID } from 'node:crypto';
import {
  AppError,
  conflict,
  isPending,
  notFound,
  type ChargeResult,
  type ChatroomListCache,
  type Config,
  type JobProducer,
  type Logger,
  type MessageRow,
  type MessageWithSiblings,
  type Quota,
  type ReplyEvents,
  type ReplySettings,
  type ReplyNotifications,
  type Store,
  type Tier,
} from '@gemini-chat/shared';
import type { Message } from '../schemas/chatroom.schemas.js';
import type { MessageList, SendMessageResult } from '../schemas/message.schemas.js';
import type { Usage } from '../schemas/user.schemas.js';
import { resolveReply } from '../lib/model-access.js';
import { knownCapabilities, type InputModality } from '../lib/model-families.js';
import { toMessages, toMessageWithAttachments } from './message-attachments.js';
import { toMessage } from './mappers.js';
import { branchPage } from './branch-page.js';

export interface Caller {
  userId: string;
  tier: Tier;
}

/** A send's or a regenerate's model and settings for its one reply, over the chatroom's. */
export interface ReplyOverrides {
  model?: string;
  settings?: ReplySettings;
}

/**
 * The overrides as part of an Idempotency-Key's request hash: empty when there are none (so keys stored before
 * overrides existed still replay), otherwise in a key order of our own, not the client's.
 */
function overridesHashPart(overrides: ReplyOverrides): string {
  const parts: string[] = [];
  if (overrides.model !== undefined) parts.push(`\nmodel:${overrides.model}`);
  if (overrides.settings !== undefined) {
    const sorted = Object.fromEntries(Object.entries(overrides.settings).sort(([a], [b]) => a.localeCompare(b)));
    parts.push(`\nsettings:${JSON.stringify(sorted)}`);
  }
  return parts.join('');
}

/** What a model must be able to read to take a file of this type (text files are text to every model). */
function modalityOf(mimeType: string): InputModality {
  if (mimeType.startsWith('image/')) return 'image';
  if (mimeType.startsWith('audio/')) return 'audio';
  if (mimeType === 'application/pdf') return 'pdf';
  return 'text';
}

/** Attachments as part of an Idempotency-Key's request hash: nothing when there are none, so older keys replay. */
const attachmentsHashPart = (ids: string[]): string => (ids.length > 0 ? `\nattachments:${ids.join(',')}` : '');

export interface SendOptions {
  idempotencyKey?: string;
  /** Seconds to hold the response for the finished reply (`Prefer: wait=N`). */
  waitSeconds: number;
  /** Ends that wait early (the server is closing): the reply is then answered as it is, still pending (202). */
  stopWaiting?: AbortSignal;
}

export type SendOutcome =
  | { kind: 'accepted' | 'finished'; result: SendMessageResult; usage: Usage }
  | { kind: 'replayed'; status: number; body: SendMessageResult; usage: Usage };

const chatroomBusy = () => conflict('CHATROOM_BUSY', 'A reply in this chatroom is still being generated; wait for it or cancel it.');
const notAReply = (what: string) => new AppError(400, 'NOT_A_REPLY', what);
const keyInUse = () => new AppError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry shortly.');

const REFUND_ATTEMPTS = 4;
const REFUND_RETRY_MS = 100;


export function createMessageService(deps: {
  store: Store;
  quota: Quota;
  listCache: ChatroomListCache;
  jobs: JobProducer;
  notifications: ReplyNotifications;
  replyEvents: ReplyEvents;
  log: Logger;
  /** The configured models: each reply's model is checked against the caller's tier at send time. */
  models: Pick<Config['gemini'], 'models' | 'defaultModel'>;
  onQuotaRejected: () => void;
}) {
  const { store, quota, listCache, jobs, notifications, replyEvents, log } = deps;

  const usageOf = (charge: Pick<ChargeResult, 'used' | 'limit' | 'resetsAt'>): Usage => ({
    used: charge.used,
    limit: charge.limit,
    resetsAt: charge.resetsAt.toISOString(),
  });

  const links = (chatroomId: string, replyId: string) => ({
    reply: `/chatroom/${chatroomId}/messages/${replyId}`,
    stream: `/chatroom/${chatroomId}/messages/${replyId}/stream`,
    latest: `/chatroom/${chatroomId}/latest`,
  });

  async function requireChatroom(userId: string, chatroomId: string) {
    const room = await store.chatrooms.findOwned(userId, chatroomId);
    if (!room) throw notFound('chatroom');
    return room;
  }

  /** A message as clients see it, with its sibling info as it is now. */
  async function present(row: MessageRow): Promise<Message> {
    const [full] = await store.messages.findWithSiblings(row.chatroom_id, [row.id]);
    if (!full) throw notFound('message'); // deleted with its chatroom meanwhile
    return toMessageWithAttachments(store, full);
  }

  /**
   * Gives back the unit of a send that failed after it was charged. The refund is idempotent per charge, so a Redis
   * blip is retried rather than costing the user a unit for the rest of the day.
   */
  async function refund(userId: string, day: string, chargeId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await quota.refund(userId, day, chargeId);
        return;
      } catch (err) {
        if (attempt >= REFUND_ATTEMPTS) {
          log.error({ err, userId, day, chargeId }, 'quota refund failed; the unit stays charged until the day ends');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, REFUND_RETRY_MS * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * Resolves with the reply once it has finished, or as it is when `seconds` run out. Woken by every change of the
   * reply's live log, it reads only the log's owner (one Redis GET) and goes to Postgres once the reply has ended.
   */
  async function waitForReply(reply: MessageWithSiblings, seconds: number, stop?: AbortSignal): Promise<MessageWithSiblings> {
    const deadline = Date.now() + seconds * 1000;
    const over = () => Date.now() >= deadline || stop?.aborted === true;
    for (;;) {
      // Listen before looking, so a change between the look and the wait cannot be missed.
      const changed = notifications.next(reply.id, deadline - Date.now(), stop);
      if ((await replyEvents.owner(reply.id)) === 'finished' || over()) break;
      if (!(await changed) && over()) break;
    }
    return (await store.messages.findWithSiblings(reply.chatroom_id, [reply.id]))[0] ?? reply;
  }

  return {
    usageOf,

    /**
     * A new prompt and its reply. `parentId` undefined continues the current branch; a reply of the chatroom, or
     * null (a new first prompt), starts a new branch there.
     */
    send(
      caller: Caller,
      chatroomId: string,
      input: { content: string; parentId?: string | null; attachments?: string[] } & ReplyOverrides,
      options: SendOptions,
    ): Promise<SendOutcome> {
      const { model, settings, attachments, ...rest } = input;
      return startReply(caller, chatroomId, { kind: 'prompt', ...rest, attachments: attachments ?? [] }, overridesOf(model, settings), options);
    },

    /** A new reply to the prompt of any reply of the chatroom, its sibling (charged like a prompt). */
    regenerate(caller: Caller, chatroomId: string, messageId: string, overrides: ReplyOverrides, options: SendOptions): Promise<SendOutcome> {
      return startReply(caller, chatroomId, { kind: 'regenerate', messageId }, overridesOf(overrides.model, overrides.settings), options);
    },

    /** Stops a queued or generating reply, keeping exactly the text its readers were shown. Idempotent. */
    async cancel(userId: string, chatroomId: string, messageId: string): Promise<Message> {
      await requireChatroom(userId, chatroomId);
      const row = await store.messages.findInChatroom(chatroomId, messageId);
      if (!row) throw notFound('message');
      if (row.role !== 'assistant') throw notAReply('Only assistant replies can be cancelled.');
      if (row.status === 'cancelled') return present(row);
      if (!isPending(row.status)) throw conflict('REPLY_ALREADY_FINISHED', `This reply already ended (${row.status}).`);
      // Take the live log from the worker first (it is told at once and aborts the model call): from then on the log
      // is final, so the text stored is all readers were shown. The live log is ahead of the last database save;
      // without one (never written, or lost) the row keeps what it has.
      await replyEvents.stop(messageId);
      const shown = await replyEvents.shown(messageId);
      const cancelled = await store.messages.cancel(messageId, shown?.text, shown ? shown.thoughts || null : undefined);
      // Ended for readers only now, so the final event they get carries the stored reply.
      if (cancelled) {
        await replyEvents.finish(messageId, 'done', { status: 'cancelled' });
        return present(cancelled);
      }
      // It ended first (the worker completed or failed it, or another cancel won). Its run may have been refused
      // the final log entry by the stop above, so end the log the way the database says.
      const now = await store.messages.findById(messageId);
      if (now && !isPending(now.status)) await replyEvents.finish(messageId, now.status === 'failed' ? 'error' : 'done', { status: now.status });
      if (now?.status === 'cancelled') return present(now);
      throw conflict('REPLY_ALREADY_FINISHED', `This reply already ended (${now?.status ?? 'deleted'}).`);
    },

    /** A branch, leaf first: the current one, or the one through `leafId`. */
    async list(userId: string, chatroomId: string, page: { limit: number; cursor?: string | undefined; leafId?: string | undefined }): Promise<MessageList> {
      return branchPage(store, await requireChatroom(userId, chatroomId), page);
    },

    async get(userId: string, chatroomId: string, messageId: string): Promise<Message> {
      await requireChatroom(userId, chatroomId);
      const [row] = await store.messages.findWithSiblings(chatroomId, [messageId]);
      if (!row) throw notFound('message');
      return toMessageWithAttachments(store, row);
    },

    /** The newest reply of the current branch, and whether it is still being produced. */
    async latest(userId: string, chatroomId: string): Promise<{ message: Message; pending: boolean }> {
      const room = await requireChatroom(userId, chatroomId);
      // The current message is a leaf, and leaves are replies; the walk of two also covers a prompt left as leaf.
      const path = room.current_message_id ? await store.messages.branch(room.id, { leafId: room.current_message_id }, 2) : [];
      const row = path.find((message) => message.role === 'assistant');
      if (!row) throw new AppError(404, 'MESSAGE_NOT_FOUND', 'This chatroom has no reply yet.');
      return { message: await toMessageWithAttachments(store, row), pending: isPending(row.status) };
    },
  };

  function overridesOf(model: string | undefined, settings: ReplySettings | undefined): ReplyOverrides {
    return { ...(model !== undefined ? { model } : {}), ...(settings !== undefined ? { settings } : {}) };
  }

  async function startReply(
    caller: Caller,
    chatroomId: string,
    input: { kind: 'prompt'; content: string; parentId?: string | null; attachments: string[] } | { kind: 'regenerate'; messageId: string },
    overrides: ReplyOverrides,
    options: SendOptions,
  ): Promise<SendOutcome> {
    const { idempotencyKey: key } = options;
    // A send that names no parent (and no overrides) keeps the hash it always had, so keys stored earlier still replay.
    const request =
      (input.kind === 'regenerate'
        ? `${chatroomId}\nregenerate:${input.messageId}`
        : `${chatroomId}\n${input.content}${input.parentId !== undefined ? `\nparent:${input.parentId ?? 'root'}` : ''}${attachmentsHashPart(input.attachments)}`) +
      overridesHashPart(overrides);
    const requestHash = createHash('sha256').update(request).digest('hex');
    // Replays cost nothing: a retry at the limit gets its result back, not a 429. The key's claim, first in the
    // transaction, is what tells a replay apart (no separate look-up beforehand: one transaction per send).

    // Chosen here so the quota charge can be named after the reply it pays for: that makes its refund retryable.
    const replyId = randomUUID();
    const charged: { charge?: ChargeResult } = {};
    let outcome: { kind: 'created'; result: SendMessageResult; reply: MessageWithSiblings } | { kind: 'duplicate' };
    try {
      // Every rejection below throws, so the transaction rolls back and takes the key's claim with it: the client
      // may send the same key again once the reason is gone.
      outcome = await store.transaction(async (tx) => {
        // Claim the key first: a concurrent request with the same key waits here until we commit, then
        // finds the key taken and replays our result instead of sending again (uncharged).
        if (key && !(await tx.idempotency.claim(caller.userId, key, requestHash))) {
          return { kind: 'duplicate' as const };
        }
        const room = await tx.chatrooms.findOwnedForUpdate(caller.userId, chatroomId);
        if (!room) throw notFound('chatroom');
        if (await tx.messages.hasPendingReply(room.id)) throw chatroomBusy();
        // Checked at every send: the configured models and the caller's tier may have changed since the chatroom
        // was given its model.
        const generation = resolveReply(deps.models, caller.tier, room, overrides);
        // Where the exchange goes: a regenerated reply beside the target (under its prompt), a prompt under the
        // reply it follows. Another user's or an unknown message is simply not in this chatroom: 404.
        let replyToId: string | undefined;
        let parentId: string | null = null;
        if (input.kind === 'regenerate') {
          const target = await tx.messages.findInChatroom(room.id, input.messageId);
          if (!target) throw notFound('message');
          if (target.role !== 'assistant' || !target.reply_to_id) throw notAReply('Only assistant replies can be regenerated.');
          replyToId = target.reply_to_id;
        } else if (input.parentId === undefined) {
          parentId = room.current_message_id;
        } else if (input.parentId !== null) {
          const parent = await tx.messages.findInChatroom(room.id, input.parentId);
          if (!parent) throw notFound('message');
          if (parent.role !== 'assistant') {
            throw new AppError(400, 'PARENT_NOT_A_REPLY', 'parentId must be a reply of this chatroom (or null): a prompt follows a reply. To edit a prompt, use its parentId.', {
              errors: [{ in: 'body', field: 'parentId', message: 'is not a reply of this chatroom' }],
            });
          }
          parentId = parent.id;
        }
        if (input.kind === 'prompt' && input.attachments.length > 0) {
          // Locked until the exchange is stored, so a file cannot be deleted between this check and its attachment.
          const files = await tx.files.findLiveOwnedForShare(caller.userId, input.attachments);
          // Another user's file is exactly as absent as a deleted or unknown one.
          if (files.length !== input.attachments.length) throw notFound('file');
          const readable = knownCapabilities(generation.model).inputModalities;
          const unreadable = files.find((file) => !readable.includes(modalityOf(file.mime_type)));
          if (unreadable) {
            throw new AppError(400, 'ATTACHMENT_NOT_SUPPORTED', `The model ${generation.model} cannot read ${unreadable.mime_type} files; choose a model that can (GET /models).`, {
              errors: [{ in: 'body', field: `attachments.${input.attachments.indexOf(unreadable.id)}`, message: `is a ${unreadable.mime_type} file the model cannot read` }],
            });
          }
        }
        // Charged only once the send is known to be acceptable, so no rejection above ever needs a refund. A lost
        // counter is rebuilt through this transaction's connection: the pool may have none to spare.
        const charge = (charged.charge = await quota.charge(caller.userId, caller.tier, tx.messages));
        if (!charge.admitted) {
          deps.onQuotaRejected();
          throw new AppError(429, 'QUOTA_EXCEEDED', `Daily limit of ${charge.limit} prompts reached; it resets at ${charge.resetsAt.toISOString()}.`, {
            retryAfterSeconds: charge.retryAfterSeconds,
            quota: usageOf(charge),
          });
        }
        const { userMessage, reply } = await tx.messages.insertExchange({
          replyId,
          chatroomId: room.id,
          userId: caller.userId,
          content: input.kind === 'prompt' ? input.content : '',
          ...(replyToId ? { replyToId } : { parentId }),
          quotaDay: charge.day,
          model: generation.model,
          settings: generation.settings,
        });
        if (input.kind === 'prompt') await tx.files.attach(userMessage.id, input.attachments);
        // The new exchange is what the user looks at now, and the chatroom's activity (one update for both).
        await tx.chatrooms.recordExchange(room.id, reply.id);
        const [shownPrompt, shownReply] = await tx.messages.findWithSiblings(room.id, [userMessage.id, reply.id]);
        if (!shownPrompt || !shownReply) throw new Error('the exchange just stored is missing');
        // A new prompt without files has none to read back (and replies never carry any).
        const [promptShown, replyShown] =
          input.kind === 'prompt' && input.attachments.length === 0
            ? [toMessage(shownPrompt, []), toMessage(shownReply, [])]
            : await toMessages(tx, [shownPrompt, shownReply]);
        const result: SendMessageResult = {
          userMessage: promptShown!,
          reply: replyShown!,
          quota: usageOf(charge),
          links: links(room.id, reply.id),
        };
        if (key) await tx.idempotency.complete(caller.userId, key, { requestHash, status: 202, body: result });
        return { kind: 'created' as const, result, reply: shownReply };
      });
    } catch (err) {
      // Charged, then the transaction failed: nothing was stored, so the unit goes back.
      if (charged.charge?.admitted) await refund(caller.userId, charged.charge.day, replyId);
      throw err;
    }

    if (outcome.kind === 'duplicate') {
      const stored = key ? await store.idempotency.find(caller.userId, key) : undefined;
      if (!stored) throw keyInUse();
      return replay(caller, stored, requestHash);
    }

    // Independent of each other (separate connections): sent together, one round trip of waiting instead of two.
    const queuedId = outcome.reply.id;
    await Promise.all([
      jobs.enqueue('generate-reply', { assistantMessageId: queuedId }).catch((err: unknown) => {
        // Stored and charged: the worker's sweeper enqueues replies whose job never arrived.
        log.error({ err, messageId: queuedId }, 'enqueue failed; the sweeper will pick the reply up');
      }),
      listCache.forget(caller.userId).catch((err: unknown) => log.warn({ err }, 'chatroom list cache: invalidation failed')),
    ]);

    if (options.waitSeconds > 0) {
      const reply = await waitForReply(outcome.reply, options.waitSeconds, options.stopWaiting);
      const result = { ...outcome.result, reply: await toMessageWithAttachments(store, reply) };
      return { kind: isPending(reply.status) ? 'accepted' : 'finished', result, usage: result.quota };
    }
    return { kind: 'accepted', result: outcome.result, usage: outcome.result.quota };
  }

  async function replay(caller: Caller, stored: { requestHash: string; status: number; body: unknown }, requestHash: string): Promise<SendOutcome> {
    if (stored.requestHash !== requestHash) {
      throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request; use a new key.');
    }
    // Only a finished send is ever recorded; anything else is not a response to hand back.
    if (stored.status !== 200 && stored.status !== 202) throw keyInUse();
    const current = await quota.usage(caller.userId, caller.tier);
    return { kind: 'replayed', status: stored.status, body: stored.body as SendMessageResult, usage: usageOf(current) };
  }
}
export type MessageService = ReturnType<typeof createMessageService>;
