import { createHash, randomUUID } from 'node:crypto';
import { AppError, notFound, type ChatroomListCache, type Config, type Logger, type Store, type Tier } from '@gemini-chat/shared';
import { checkModel } from '../lib/model-access.js';
import { planFromChatGpt, planFromExport, type PlannedChatroom, type Skipped } from '../lib/chatroom-import.js';
import { toChatroomExports } from '../lib/chatroom-export.js';
import type { ChatroomExport, ExportedMessage, ImportBody, ImportResult } from '../schemas/export.schemas.js';

export type ImportOutcome = { replayed: boolean; result: ImportResult };

const keyInUse = () => new AppError(409, 'IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry shortly.');
const keyReused = () => new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request; use a new key.');

const BATCH = 1000;

/** The current branch of an export, first prompt first (its current message, then parent after parent, reversed). */
export function currentBranch(file: ChatroomExport): ExportedMessage[] {
  const byId = new Map(file.messages.map((m) => [m.id, m]));
  const branch: ExportedMessage[] = [];
  const seen = new Set<string>();
  for (let id = file.chatroom.currentMessageId; id !== null && !seen.has(id); id = byId.get(id)?.parentId ?? null) {
    seen.add(id);
    const message = byId.get(id);
    if (message) branch.push(message);
  }
  return branch.reverse();
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The current branch as Markdown, to read: the title, then one heading per turn, attachments listed by name. */
export function toMarkdown(file: ChatroomExport): string {
  const lines = [`# ${oneLine(file.chatroom.title)}`, ''];
  if (file.chatroom.systemPrompt) lines.push('## System prompt', '', file.chatroom.systemPrompt, '');
  for (const message of currentBranch(file)) {
    const heading = message.role === 'user' ? 'User' : `Assistant${message.model ? ` (${oneLine(message.model)})` : ''}`;
    lines.push(`## ${heading}`, '');
    if (message.content) lines.push(message.content, '');
    if (message.status !== 'completed') lines.push(`_(${message.status}${message.error ? `: ${oneLine(message.error.message)}` : ''})_`, '');
    if (message.attachments.length > 0) {
      lines.push('Attachments:', '');
      for (const file of message.attachments) lines.push(`- ${oneLine(file.name)} (${file.mimeType}${file.deleted ? ', deleted' : ''})`);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

export function createExportService(deps: {
  store: Store;
  listCache: ChatroomListCache;
  log: Logger;
  /** An imported chatroom keeps its model only when the importing user's tier may use it. */
  models: Pick<Config['gemini'], 'models' | 'defaultModel'>;
}) {
  const { store, listCache, log, models } = deps;

  /** The newest message at or beneath `key` (a leaf: children are stored after their parents). */
  function newestLeafUnder(room: PlannedChatroom, key: string | null): string | null {
    if (key === null) return null;
    const under = new Set([key]);
    let newest = key;
    for (const message of room.messages) {
      if (message.parentKey !== null && under.has(message.parentKey)) {
        under.add(message.key);
        newest = message.key;
      }
    }
    return newest;
  }

  function replay(stored: { requestHash: string; status: number; body: unknown }, requestHash: string): ImportOutcome {
    if (stored.requestHash !== requestHash) throw keyReused();
    if (stored.status !== 201) throw keyInUse();
    return { replayed: true, result: stored.body as ImportResult };
  }

  return {
    /**
     * A chatroom of the user's with every message of every branch, in the `gemini-chat.chatroom` format (version 1).
     * Another user's chatroom is not found, exactly like a missing one.
     */
    async exportChatroom(userId: string, chatroomId: string): Promise<ChatroomExport> {
      const [file] = toChatroomExports(await store.chatroomExports.chatroom(userId, chatroomId), new Date());
      if (!file) throw notFound('chatroom');
      return file;
    },

    /**
     * Creates chatrooms from a chatroom export or a ChatGPT conversations.json: all of them in one transaction, or
     * none. Not charged to the quota (nothing is generated). With an Idempotency-Key, a retry of the same body gets
     * the first result back instead of a second copy.
     */
    async importChatrooms(caller: { userId: string; tier: Tier }, body: ImportBody, options: { idempotencyKey?: string } = {}): Promise<ImportOutcome> {
      const { userId } = caller;
      const key = options.idempotencyKey;
      const requestHash = createHash('sha256').update(`import\n${JSON.stringify(body)}`).digest('hex');
      if (key) {
        const stored = await store.idempotency.find(userId, key);
        if (stored) return replay(stored, requestHash);
      }

      const skipped: Skipped[] = [];
      const rooms = Array.isArray(body) ? body.map((conversation, i) => planFromChatGpt(conversation, i, skipped)) : [planFromExport(body)];
      rooms.forEach((room, i) => {
        if (room.model === null) return;
        try {
          checkModel(models, caller.tier, room.model);
        } catch {
          skipped.push({ conversation: i, nodeId: null, reason: `the model ${room.model} is not available to you: the chatroom uses your default model` });
          room.model = null;
        }
      });

      // The cache is bumped before the write so an unreachable Redis fails the request with nothing stored (as for
      // every change to the list); the bump after it is the real invalidation.
      await listCache.forget(userId);
      const outcome = await store.transaction(async (tx) => {
        if (key && !(await tx.idempotency.claim(userId, key, requestHash))) return undefined;
        // Attachments are metadata only: a file the user still has (same account, same server) is attached again;
        // any other is left out and reported.
        const wanted = [...new Set(rooms.flatMap((room) => room.messages.flatMap((m) => m.attachments.map((a) => a.id))))];
        const live = new Set<string>();
        for (let i = 0; i < wanted.length; i += BATCH) {
          for (const file of await tx.files.findLiveOwnedForShare(userId, wanted.slice(i, i + BATCH))) live.add(file.id);
        }
        const result: ImportResult = { chatrooms: [], skipped };
        for (const [index, room] of rooms.entries()) {
          const lastActivityAt = room.messages.reduce((latest, m) => (m.createdAt > latest ? m.createdAt : latest), room.createdAt);
          const created = await tx.chatrooms.insert(userId, { ...room, lastActivityAt });
          const ids = new Map(room.messages.map((m) => [m.key, randomUUID()]));
          await tx.messages.insertImported(
            room.messages.map((m) => ({
              ...m,
              id: ids.get(m.key)!,
              chatroomId: created.id,
              userId,
              parentId: m.parentKey === null ? null : ids.get(m.parentKey)!,
            })),
          );
          for (const message of room.messages) {
            const kept = message.attachments.filter((a) => live.has(a.id));
            for (const gone of message.attachments.filter((a) => !live.has(a.id))) {
              skipped.push({ conversation: index, nodeId: message.key, reason: `the attachment ${JSON.stringify(gone.name)}: its file is not among yours (an export holds no file contents)` });
            }
            await tx.files.attach(ids.get(message.key)!, [...new Set(kept.map((a) => a.id))]);
          }
          const current = newestLeafUnder(room, room.currentKey);
          if (current !== null) await tx.chatrooms.setCurrentMessage(created.id, ids.get(current)!);
          result.chatrooms.push({ id: created.id, title: created.title, messageCount: room.messages.length });
        }
        if (key) await tx.idempotency.complete(userId, key, { requestHash, status: 201, body: result });
        return result;
      });
      await listCache.forget(userId).catch((err: unknown) => log.warn({ err, userId }, 'chatroom list cache: invalidation failed'));

      if (outcome === undefined) {
        // Another request with this key committed first: its result is the answer.
        const stored = key ? await store.idempotency.find(userId, key) : undefined;
        if (!stored) throw keyInUse();
        return replay(stored, requestHash);
      }
      return { replayed: false, result: outcome };
    },
  };
}
export type ExportService = ReturnType<typeof createExportService>;
