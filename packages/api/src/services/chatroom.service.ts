import { createHash } from 'node:crypto';
import {
  AppError,
  conflict,
  isPending,
  notFound,
  type ChatroomListCache,
  type ChatroomRow,
  type Config,
  type Logger,
  type ReplyEvents,
  type Store,
  type Tier,
} from '@gemini-chat/shared';
import type {
  Chatroom,
  ChatroomDetail,
  ChatroomList,
  CreateChatroomBody,
  ForkChatroomBody,
  UpdateChatroomBody,
} from '../schemas/chatroom.schemas.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../lib/cursor.js';
import type { LocalCache } from '../lib/local-cache.js';
import type { UserPages } from '../lib/user-pages.js';
import { checkModel } from '../lib/model-access.js';
import { toAttachment, toChatroom, toMessage } from './mappers.js';
import type { MessageAttachment } from '../schemas/file.schemas.js';
import { branchPage } from './branch-page.js';

export const DEFAULT_CHATROOM_TITLE = 'New chat';
const TITLE_MAX_CHARS = 120;
const FORK_SUFFIX = ' (fork)';
const DETAIL_MESSAGE_PAGE = 20;

/** A list page as the API sends it: the exact JSON body and its ETag, cached together. */
export interface ListPage {
  body: string;
  etag: string;
}

export function createChatroomService(
  store: Store,
  listCache: ChatroomListCache,
  /** This process's copies of list pages, in front of the Redis cache (forgotten whenever `listCache` forgets). */
  listPages: LocalCache<ListPage>,
  replyEvents: ReplyEvents,
  log: Logger,
  /** The configured models: a chatroom may name only one its user's tier may use. */
  models: Pick<Config['gemini'], 'models' | 'defaultModel'>,
  /** Removes stored objects of files already marked deleted (failures are the sweep's to finish). */
  deleteObjects: (keys: string[]) => Promise<void>,
  /** This process's copies of chatroom pages (GET /chatroom/:id), dropped on every change of their user's data. */
  pages: UserPages,
) {
  /**
   * Wraps a write that changes the user's list. The cache is bumped before the write so an unreachable Redis
   * fails the request (503) with nothing stored, rather than storing and then answering 503 (which invites a
   * retry and a duplicate). The bump after the write is the real invalidation; if Redis fails in between, the
   * write stands and the cached list may lag until its TTL.
   */
  async function changingList<T>(userId: string, write: () => Promise<T>): Promise<T> {
    await listCache.forget(userId);
    const result = await write();
    await listCache.forget(userId).catch((err: unknown) => log.warn({ err, userId }, 'chatroom list cache: invalidation failed'));
    return result;
  }

  async function listFromDatabase(userId: string, limit: number, cursor?: string): Promise<ChatroomList> {
    const after = cursor ? decodeCursor(cursor, ['t', 'id'] as const) : undefined;
    const afterKey = after ? { lastActivityAt: new Date(after.t), id: after.id } : undefined;
    const year = afterKey?.lastActivityAt.getUTCFullYear() ?? 2000;
    if (afterKey && (Number.isNaN(afterKey.lastActivityAt.getTime()) || year < 1970 || year > 9999 || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(afterKey.id))) {
      throw invalidCursor();
    }
    const rows = await store.chatrooms.listOwned(userId, limit + 1, afterKey);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toChatroom),
      nextCursor: rows.length > limit && last ? encodeCursor({ t: last.last_activity_at.toISOString(), id: last.id }) : null,
    };
  }

  /** A chatroom with the newest page of its current branch. */
  async function detail(row: ChatroomRow): Promise<ChatroomDetail> {
    const page = await branchPage(store, row, { limit: DETAIL_MESSAGE_PAGE });
    return { ...toChatroom(row), messages: page.items, hasMoreMessages: page.nextCursor !== null, messagesNextCursor: page.nextCursor };
  }

  return {
    /** The list page: from this process's memory, else the per-user Redis cache, else the database. */
    async list(userId: string, limit: number, cursor?: string): Promise<ListPage> {
      const pageKey = `${limit}:${cursor ?? ''}`;
      return listPages.get(userId, pageKey, async () => {
        const { version, hit } = await listCache.get(userId, pageKey);
        if (hit) return hit;
        const body = JSON.stringify(await listFromDatabase(userId, limit, cursor));
        const loaded = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
        await listCache.set(userId, version, pageKey, loaded);
        return loaded;
      });
    },

    /**
     * The chatroom page as the JSON body sent (`serialize`: the route's), from this process's memory when it can be
     * trusted; else one statement: the chatroom, the newest page of its current branch and the page's attachments.
     * Kept per user, so someone else's chatroom is looked up (and refused) every time.
     */
    async get(userId: string, id: string, serialize: (detail: ChatroomDetail) => string): Promise<string> {
      const page = await pages.get(userId, `chatroom:${id}`, async () => {
        const found = await store.messages.chatroomPage(userId, id, DETAIL_MESSAGE_PAGE + 1);
        if (!found) throw notFound('chatroom');
        const byMessage = new Map<string, MessageAttachment[]>();
        for (const attached of found.attachments) {
          byMessage.set(attached.message_id, [...(byMessage.get(attached.message_id) ?? []), toAttachment(attached)]);
        }
        const items = found.messages.slice(0, DETAIL_MESSAGE_PAGE).map((row) => toMessage(row, byMessage.get(row.id) ?? []));
        const last = items.at(-1);
        const messagesNextCursor = found.messages.length > DETAIL_MESSAGE_PAGE && last ? encodeCursor({ m: last.id }) : null;
        const detail = { ...toChatroom(found.room), messages: items, hasMoreMessages: messagesNextCursor !== null, messagesNextCursor };
        return { body: serialize(detail), expiresAt: Infinity };
      });
      return page.body;
    },

    async create(caller: { userId: string; tier: Tier }, input: CreateChatroomBody): Promise<Chatroom> {
      const { userId } = caller;
      if (input.model) checkModel(models, caller.tier, input.model);
      const row = await changingList(userId, () =>
        store.chatrooms.insert(userId, {
          title: input.title ?? DEFAULT_CHATROOM_TITLE,
          titleSource: input.title ? 'user' : 'default',
          systemPrompt: input.systemPrompt ?? null,
          model: input.model ?? null,
          settings: input.settings ?? {},
        }),
      );
      return toChatroom(row);
    },

    async update(caller: { userId: string; tier: Tier }, id: string, input: UpdateChatroomBody): Promise<Chatroom> {
      const { userId } = caller;
      if (input.model) checkModel(models, caller.tier, input.model);
      let currentMessageId: string | undefined;
      if (input.currentMessageId !== undefined) {
        // Switching branch: any message of the chatroom selects the newest leaf at or beneath it.
        if (!(await store.chatrooms.findOwned(userId, id))) throw notFound('chatroom');
        currentMessageId = await store.messages.newestLeafUnder(id, input.currentMessageId);
        if (!currentMessageId) throw notFound('message');
      }
      const row = await changingList(userId, () =>
        store.chatrooms.updateOwned(userId, id, {
          ...(input.title !== undefined ? { title: input.title, titleSource: 'user' as const } : {}),
          ...(input.systemPrompt !== undefined ? { systemPrompt: input.systemPrompt } : {}),
          ...(currentMessageId !== undefined ? { currentMessageId } : {}),
          ...(input.model !== undefined ? { model: input.model } : {}),
          ...(input.settings !== undefined ? { settings: input.settings } : {}),
        }),
      );
      if (!row) throw notFound('chatroom');
      return toChatroom(row);
    },

    /**
     * A new chatroom holding a copy of the path from the root to a finished reply (new ids, same content, status and
     * usage; not charged again). Its title is the source's with " (fork)"; its current message is the copied reply.
     */
    async fork(userId: string, id: string, input: ForkChatroomBody): Promise<ChatroomDetail> {
      const room = await changingList(userId, () =>
        store.transaction(async (tx) => {
          const source = await tx.chatrooms.findOwned(userId, id);
          if (!source) throw notFound('chatroom');
          const path = await tx.messages.pathTo(source.id, input.messageId);
          const target = path[0];
          if (!target) throw notFound('message');
          if (target.role !== 'assistant') throw new AppError(400, 'NOT_A_REPLY', 'Fork from a reply: a conversation continues after a reply.');
          if (isPending(target.status)) throw conflict('REPLY_NOT_FINISHED', 'This reply is still being generated; fork once it has finished.');
          const created = await tx.chatrooms.insert(userId, {
            title: `${source.title.slice(0, TITLE_MAX_CHARS - FORK_SUFFIX.length)}${FORK_SUFFIX}`,
            titleSource: 'user',
            systemPrompt: source.system_prompt,
            model: source.model,
            settings: source.settings,
          });
          const copies = await tx.messages.copyPath(path.reverse(), created.id);
          const leaf = copies.at(-1)!;
          await tx.chatrooms.setCurrentMessage(created.id, leaf.id);
          return { ...created, current_message_id: leaf.id };
        }),
      );
      return detail(room);
    },

    async remove(userId: string, id: string): Promise<void> {
      const pending = await store.messages.pendingReplyIn(id);
      // Its files go with it unless another of the user's chatrooms uses them: marked deleted and their storage given
      // back in the transaction that deletes it, their objects removed once that has committed.
      const removed = await changingList(userId, () =>
        store.transaction(async (tx) => {
          const files = await tx.files.softDeleteOnlyIn(userId, id);
          if (!(await tx.chatrooms.deleteOwned(userId, id))) throw notFound('chatroom');
          const bytes = files.reduce((sum, file) => sum + BigInt(file.size_bytes), 0n);
          if (bytes > 0n) await tx.files.releaseStorage(userId, bytes.toString());
          return files;
        }),
      );
      if (removed.length > 0) await deleteObjects(removed.map((file) => file.storage_key));
      // A reply being generated for it stops now: ending its log tells the worker to abort the model call.
      if (pending) {
        await replyEvents
          .finish(pending.id, 'done', { status: 'deleted' })
          .catch((err: unknown) => log.warn({ err, messageId: pending.id }, 'could not stop the deleted chatroom\'s reply'));
      }
    },
  };
}
export type ChatroomService = ReturnType<typeof createChatroomService>;
