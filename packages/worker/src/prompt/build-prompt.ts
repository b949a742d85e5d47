import type { Content, Part } from '@google/genai';

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

export interface PromptPlanInput {
  systemPrompt: string | null;
  prompt: string;
  promptMessageId: string;
  history: HistoryMessage[];
  budgetTokens: number;
  /** What each user message's attachments cost, in tokens (absent: none). */
  attachmentTokens?: ReadonlyMap<string, number>;
}

/** Which turns a prompt is made of, before its attachments' parts are known. */
export interface PromptPlan {
  systemPrompt: string | null;
  /** Oldest first. */
  exchanges: Array<{ userMessageId: string; user: string; model: string }>;
  promptMessageId: string;
  prompt: string;
  estimatedTokens: number;
  droppedExchanges: number;
}

/**
 * Chooses the model's view of a branch: the system prompt, then as many earlier exchanges as fit the token budget
 * (oldest dropped first, an exchange's attachments counted with its text), then the prompt being answered with all
 * of its attachments. An exchange is a user message and its completed reply; prompts whose reply failed or was
 * cancelled are left out, so turns always alternate user/model.
 * `history` is newest first: the path from the prompt's parent up to the root, so it holds one reply per prompt.
 */
export function planPrompt(input: PromptPlanInput): PromptPlan {
  const attachmentCost = (messageId: string) => input.attachmentTokens?.get(messageId) ?? 0;
  const userById = new Map(input.history.filter((m) => m.role === 'user').map((m) => [m.id, m]));
  const answered = new Set<string>();
  const exchanges: PromptPlan['exchanges'] = []; // newest first
  for (const message of input.history) {
    if (message.role !== 'assistant' || message.status !== 'completed' || !message.reply_to_id) continue;
    if (message.reply_to_id === input.promptMessageId || answered.has(message.reply_to_id)) continue; // regenerated: newest wins
    const user = userById.get(message.reply_to_id);
    if (!user) continue;
    answered.add(message.reply_to_id);
    exchanges.push({ userMessageId: user.id, user: user.content, model: message.content });
  }

  let used = estimateTokens(input.prompt) + attachmentCost(input.promptMessageId) + (input.systemPrompt ? estimateTokens(input.systemPrompt) : 0);
  const kept: typeof exchanges = [];
  for (const exchange of exchanges) {
    const cost = estimateTokens(exchange.user) + attachmentCost(exchange.userMessageId) + estimateTokens(exchange.model);
    // Once one exchange does not fit, older ones are not tried: the context stays one unbroken stretch of the branch.
    if (used + cost > input.budgetTokens) break;
    used += cost;
    kept.push(exchange);
  }
  return {
    systemPrompt: input.systemPrompt,
    exchanges: kept.reverse(),
    promptMessageId: input.promptMessageId,
    prompt: input.prompt,
    estimatedTokens: used,
    droppedExchanges: exchanges.length - kept.length,
  };
}

/** The user messages whose attachments the plan sends, the prompt's included. */
export const plannedUserMessageIds = (plan: PromptPlan): string[] => [...plan.exchanges.map((e) => e.userMessageId), plan.promptMessageId];

/** The plan as Gemini contents: each user turn's attachment parts come before its text. */
export function assemblePrompt(plan: PromptPlan, attachmentParts: ReadonlyMap<string, readonly Part[]> = new Map()): BuiltPrompt {
  const userTurn = (messageId: string, text: string): Content => ({ role: 'user', parts: [...(attachmentParts.get(messageId) ?? []), { text }] });
  const contents: Content[] = [];
  for (const exchange of plan.exchanges) {
    contents.push(userTurn(exchange.userMessageId, exchange.user));
    contents.push({ role: 'model', parts: [{ text: exchange.model }] });
  }
  contents.push(userTurn(plan.promptMessageId, plan.prompt));
  return {
    ...(plan.systemPrompt ? { systemInstruction: plan.systemPrompt } : {}),
    contents,
    estimatedTokens: plan.estimatedTokens,
    droppedExchanges: plan.droppedExchanges,
  };
}

/** A user message's attachments as they are sent: their parts, in order, and what they cost together. */
export interface PromptAttachments {
  parts: Part[];
  tokens: number;
}

/** planPrompt then assemblePrompt, for attachments already resolved. */
export function buildPrompt(input: Omit<PromptPlanInput, 'attachmentTokens'> & { attachments?: ReadonlyMap<string, PromptAttachments> }): BuiltPrompt {
  const attachments = input.attachments ?? new Map<string, PromptAttachments>();
  const plan = planPrompt({ ...input, attachmentTokens: new Map([...attachments].map(([id, a]) => [id, a.tokens])) });
  return assemblePrompt(plan, new Map([...attachments].map(([id, a]) => [id, a.parts])));
}
