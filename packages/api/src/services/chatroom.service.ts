import { createHash } from 'node:crypto';
import { notFound, type ChatroomListCache, type Logger, type ReplyEvents, type Store } from '@gemini-chat/shared';
import type {
  Chatroom,
  ChatroomDetail,
  ChatroomList,
  CreateChatroomBody,
  UpdateChatroomBody,
} from '../schemas/chatroom.schemas.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../lib/cursor.js';
import type { LocalCache } from '../lib/local-cache.js';
import { toChatroom, toMessage } from './mappers.js';

export const DEFAULT_CHATROOM_TITLE = 'New chat';
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

    async get(userId: string, id: string): Promise<ChatroomDetail> {
      const row = await store.chatrooms.findOwned(userId, id);
      if (!row) throw notFound('chatroom');
      const messages = await store.messages.listForChatroom(row.id, DETAIL_MESSAGE_PAGE + 1);
      const page = messages.slice(0, DETAIL_MESSAGE_PAGE);
      const hasMore = messages.length > DETAIL_MESSAGE_PAGE;
      const last = page.at(-1);
      return {
        ...toChatroom(row),
        messages: page.map(toMessage),
        hasMoreMessages: hasMore,
        messagesNextCursor: hasMore && last ? encodeCursor({ s: last.seq }) : null,
      };
    },

    async create(userId: string, input: CreateChatroomBody): Promise<Chatroom> {
      const row = await changingList(userId, () =>
        store.chatrooms.insert(userId, {
          title: input.title ?? DEFAULT_CHATROOM_TITLE,
          titleSource: input.title ? 'user' : 'default',
          systemPrompt: input.systemPrompt ?? null,
        }),
      );
      return toChatroom(row);
    },

    async update(userId: string, id: string, input: UpdateChatroomBody): Promise<Chatroom> {
      const row = await changingList(userId, () =>
        store.chatrooms.updateOwned(userId, id, {
          ...(input.title !== undefined ? { title: input.title, titleSource: 'user' as const } : {}),
          ...(input.systemPrompt !== undefined ? { systemPrompt: input.systemPrompt } : {}),
        }),
      );
      if (!row) throw notFound('chatroom');
      return toChatroom(row);
    },

    async remove(userId: string, id: string): Promise<void> {
      const pending = await store.messages.pendingReplyIn(id);
      if (!(await changingList(userId, () => store.chatrooms.deleteOwned(userId, id)))) throw notFound('chatroom');
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
