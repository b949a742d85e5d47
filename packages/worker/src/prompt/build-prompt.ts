import type { Content } from '@google/genai';

export interface HistoryMessage {
  id: string;
  role: 'user' | 'assistant';
  status: string;
  content: string;
  reply_to_id: string | null;
}

export interface BuiltPrompt {
  systemInstruction?: string;
  contents: Content[];
  /** Our estimate of the prompt's size, in tokens. */
  estimatedTokens: number;
  /** Earlier exchanges left out to stay within the budget. */
  droppedExchanges: number;
}

// A local estimate (about 4 characters per token, plus a little per turn) instead of a countTokens call per
// reply: it costs no round trip and errs on the generous side for English text.
const TOKENS_PER_TURN = 4;
export const estimateTokens = (text: string) => Math.ceil([...text].length / 4) + TOKENS_PER_TURN;

/**
 * The model's view of a branch: the system prompt, then as many earlier exchanges as fit the token budget
 * (oldest dropped first), then the prompt being answered. An exchange is a user message and its completed reply;
 * prompts whose reply failed or was cancelled are left out, so turns always alternate user/model.
 * `history` is newest first: the path from the prompt's parent up to the root, so it holds one reply per prompt.
 */
export function buildPrompt(input: {
  systemPrompt: string | null;
  prompt: string;
  promptMessageId: string;
  history: HistoryMessage[];
  budgetTokens: number;
}): BuiltPrompt {
  const userById = new Map(input.history.filter((m) => m.role === 'user').map((m) => [m.id, m]));
  const answered = new Set<string>();
  const exchanges: Array<{ user: string; model: string }> = []; // newest first
  for (const message of input.history) {
    if (message.role !== 'assistant' || message.status !== 'completed' || !message.reply_to_id) continue;
    if (message.reply_to_id === input.promptMessageId || answered.has(message.reply_to_id)) continue; // regenerated: newest wins
    const user = userById.get(message.reply_to_id);
    if (!user) continue;
    answered.add(message.reply_to_id);
    exchanges.push({ user: user.content, model: message.content });
  }

  let used = estimateTokens(input.prompt) + (input.systemPrompt ? estimateTokens(input.systemPrompt) : 0);
  const kept: typeof exchanges = [];
  for (const exchange of exchanges) {
    const cost = estimateTokens(exchange.user) + estimateTokens(exchange.model);
    if (used + cost > input.budgetTokens) break;
    used += cost;
    kept.push(exchange);
  }

  const contents: Content[] = [];
  for (const exchange of kept.reverse()) {
    contents.push({ role: 'user', parts: [{ text: exchange.user }] });
    contents.push({ role: 'model', parts: [{ text: exchange.model }] });
  }
  contents.push({ role: 'user', parts: [{ text: input.prompt }] });
  return {
    ...(input.systemPrompt ? { systemInstruction: input.systemPrompt } : {}),
    contents,
    estimatedTokens: used,
    droppedExchanges: exchanges.length - kept.length,
  };
}
