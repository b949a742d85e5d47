import type { ChatroomListCache, Store } from '@gemini-chat/shared';
import type { GeminiClient } from '../gemini/gemini-client.js';
import type { JobContext } from './generate-reply.handler.js';

const TITLE_MAX_CHARS = 60;
const TITLE_TIMEOUT_MS = 15_000;
const INSTRUCTION =
  'You name chat conversations. Reply with a title of at most six words that says what the conversation is about. ' +
  'No quotes, no punctuation at the end, no preamble.';

/** Makes whatever the model answered fit a title: one line, no wrapping quotes, at most 60 characters on a word boundary. */
export function cleanTitle(raw: string): string {
  let title = raw.split('\n').map((line) => line.trim()).find(Boolean) ?? '';
  title = title.replace(/^(title\s*:\s*)/i, '').replace(/^["'“”‘’*#\s]+|["'“”‘’*.\s]+$/g, '').replace(/\s+/g, ' ');
  if (title.length <= TITLE_MAX_CHARS) return title;
  const cut = title.slice(0, TITLE_MAX_CHARS + 1);
  const lastSpace = cut.lastIndexOf(' ');
  return (lastSpace > 20 ? cut.slice(0, lastSpace) : title.slice(0, TITLE_MAX_CHARS)).replace(/[\s,;:.-]+$/, '');
}

/**
 * Names a chatroom after its first exchange, unless someone named it meanwhile: the update only applies while
 * the chatroom still carries the default title, so a user's own title is never overwritten.
 */
export function createGenerateTitleHandler(deps: { store: Store; gemini: GeminiClient; listCache: ChatroomListCache }) {
  const { store, gemini, listCache } = deps;
  return async function handle(payload: { chatroomId: string }, ctx: JobContext): Promise<void> {
    const room = await store.chatrooms.findById(payload.chatroomId);
    if (!room || room.title_source !== 'default') return;
    const exchange = await store.messages.firstExchange(room.id);
    if (!exchange) return;
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(TITLE_TIMEOUT_MS)]);
    const answer = await gemini.generate({
      systemInstruction: INSTRUCTION,
      prompt: `User: ${exchange.prompt.slice(0, 2000)}\n\nAssistant: ${exchange.reply.slice(0, 2000)}`,
      maxOutputTokens: 32,
      signal,
    });
    const title = cleanTitle(answer);
    if (!title) return;
    const updated = await store.chatrooms.setAutoTitle(room.id, title);
    if (updated) await listCache.forget(updated.user_id);
  };
}
