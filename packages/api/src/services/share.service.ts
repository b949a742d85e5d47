import { conflict, notFound, type Store } from '@gemini-chat/shared';
import type { PublicShare, Share, ShareList } from '../schemas/share.schemas.js';
import { decodeCreatedAtCursor, isUuid, newestFirstPage } from '../lib/cursor.js';
import { toPublicShare, toShare } from './mappers.js';


/**
 * Share links. Every read goes to Postgres (no cache), so a revoked share or a deleted chatroom is gone for every
 * API instance the moment the delete commits.
 */
export function createShareService(store: Store, publicBaseUrl: string) {
  return {
    async create(userId: string, chatroomId: string): Promise<Share> {
      const row = await store.shares.insertSnapshot(userId, chatroomId);
      if (row) return toShare(row, publicBaseUrl);
      if (!(await store.chatrooms.findOwned(userId, chatroomId))) throw notFound('chatroom');
      throw conflict('NOTHING_TO_SHARE', 'The current branch has no finished message to share yet.');
    },

    async list(userId: string, limit: number, cursor?: string): Promise<ShareList> {
      const rows = await store.shares.listOwned(userId, limit + 1, cursor ? decodeCreatedAtCursor(cursor) : undefined);
      return newestFirstPage(rows, limit, (row) => toShare(row, publicBaseUrl));
    },

    async revoke(userId: string, id: string): Promise<void> {
      if (!(await store.shares.deleteOwned(userId, id))) throw notFound('share');
    },

    /** The public read. A malformed id is "not found" like an unknown or revoked one: nothing tells them apart. */
    async getPublic(shareId: string): Promise<PublicShare> {
      const row = isUuid(shareId) ? await store.shares.findPublic(shareId) : undefined;
      if (!row) throw notFound('share');
      return toPublicShare(row);
    },
  };
}
export type ShareService = ReturnType<typeof createShareService>;
