import { notFound, type ChatroomRow, type Store } from '@gemini-chat/shared';
import type { MessageList } from '../schemas/message.schemas.js';
import { decodeCursor, encodeCursor, invalidCursor, isUuid } from '../lib/cursor.js';
import { toMessages } from './message-attachments.js';


/**
 * One page of a branch of the chatroom, leaf first: the current branch, the branch through `leafId` (the newest
 * leaf at or beneath it), or, with a cursor, the older messages of the branch the previous page was on.
 */
export async function branchPage(
  store: Store,
  room: ChatroomRow,
  page: { limit: number; cursor?: string | undefined; leafId?: string | undefined },
): Promise<MessageList> {
  let from: { leafId: string } | { before: string };
  if (page.cursor !== undefined) {
    const before = decodeCursor(page.cursor, ['m'] as const).m;
    if (!isUuid(before)) throw invalidCursor();
    from = { before };
  } else if (page.leafId !== undefined) {
    const leafId = await store.messages.newestLeafUnder(room.id, page.leafId);
    if (!leafId) throw notFound('message');
    from = { leafId };
  } else {
    if (!room.current_message_id) return { items: [], nextCursor: null };
    from = { leafId: room.current_message_id };
  }
  const rows = await store.messages.branch(room.id, from, page.limit + 1);
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items: await toMessages(store, items), nextCursor: rows.length > page.limit && last ? encodeCursor({ m: last.id }) : null };
}
