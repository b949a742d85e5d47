import { conflict, notFound, type Store } from '@gemini-chat/shared';
import type { PublicShare, Share, ShareList } from '../schemas/share.schemas.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../lib/cursor.js';
import { toPublicShare, toShare } from './mappers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
      let after: { createdAt: Date; id: string } | undefined;
      if (cursor) {
        const decoded = decodeCursor(cursor, ['t', 'id'] as const);
        const createdAt = new Date(decoded.t);
        if (Number.isNaN(createdAt.getTime()) || !UUID.test(decoded.id)) throw invalidCursor();
        after = { createdAt, id: decoded.id };
      }
      const rows = await store.shares.listOwned(userId, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((row) => toShare(row, publicBaseUrl)),
        nextCursor: rows.length > limit && last ? encodeCursor({ t: last.created_at.toISOString(), id: last.id }) : null,
      };
    },

    async revoke(userId: string, id: string): Promise<void> {
      if (!(await store.shares.deleteOwned(userId, id))) throw notFound('share');
    },

    /** The public read. A malformed id is "not found" like an unknown or revoked one: nothing tells them apart. */
    async getPublic(shareId: string): Promise<PublicShare> {
      const row = UUID.test(shareId) ? await store.shares.findPublic(shareId) : undefined;
      if (!row) throw notFound('share');
      return toPublicShare(row);
    },
  };
}
export type ShareService = ReturnType<typeof createShareService>;
