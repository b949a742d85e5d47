import { groundingMetadata } from './search-grounding.js';
import { splitIntoChunks, type ChunkingOptions } from './sse-framing.js';
import { countTextTokens, truncateToTokens } from './token-counting.js';
import type {
  GenerateContentResponseBody,
  ModalityTokenCount,
  WireCandidate,
  WireGroundingMetadata,
  WirePart,
  WireSafetyRating,
  WireUsageMetadata,
} from './wire.types.js';

// Builds Gemini's GenerateContentResponse bodies: the unary answer, the stream events (only the last carries the
// finishReason, the final usage and any grounding) and the prompt block. Thought summaries come first: one
// thought part before the answer part in a unary answer, one event each before the answer's events in a stream. Zero counts are left out, as proto3 JSON does (a reply
// with no text has no candidatesTokenCount).

export interface ReplyPlan {
  // The visible text actually sent (after maxOutputTokens truncation).
  text: string;
  // Stream deltas; they concatenate to `text`.
  chunks: string[];
  finishReason: string;
  promptTokens: number;
  // promptTokensDetails: one entry per modality of the prompt (TEXT alone for a text-only prompt).
  promptDetails: ModalityTokenCount[];
  candidatesTokens: number;
  thoughtsTokens: number;
  // Thought summaries sent before the answer (empty unless the request included thoughts).
  thoughts: string[];
  // The web search query, when the reply is grounded with Google Search.
  searchQuery: string | undefined;
}

export interface PlanInput {
  fullText: string;
  promptTokens: number;
  promptDetails?: ModalityTokenCount[] | undefined;
  thoughtsTokens: number;
  maxOutputTokens: number | undefined;
  finishReason: string | undefined;
  chunking: ChunkingOptions;
  thoughts?: string[] | undefined;
  searchQuery?: string | undefined;
}

// maxOutputTokens bounds thoughts plus visible text (a real Aug 2025 recording: max 200 gave 51 thoughts +
// 147 candidates, MAX_TOKENS). Thinking is spent first, so a small budget can leave no visible text at all:
// then the candidate has no `parts`, as the real API sends it.
export function planReply(input: PlanInput): ReplyPlan {
  const max = input.maxOutputTokens;
  const thoughtsTokens = max === undefined ? input.thoughtsTokens : Math.min(input.thoughtsTokens, max);
  const visibleBudget = max === undefined ? Number.POSITIVE_INFINITY : max - thoughtsTokens;
  let text = input.fullText;
  let finishReason = 'STOP';
  if (countTextTokens(text) > visibleBudget) {
    text = truncateToTokens(text, visibleBudget);
    finishReason = 'MAX_TOKENS';
  }
  return {
    text,
    chunks: splitIntoChunks(text, input.chunking),
    finishReason: input.finishReason ?? finishReason,
    promptTokens: input.promptTokens,
    promptDetails: input.promptDetails ?? textDetails(input.promptTokens),
    candidatesTokens: countTextTokens(text),
    thoughtsTokens,
    // Thinking cut to nothing by maxOutputTokens leaves nothing to summarise.
    thoughts: thoughtsTokens > 0 ? (input.thoughts ?? []) : [],
    searchQuery: input.searchQuery,
  };
}

// How many events a stream of this reply has: the thought summaries, then the answer's chunks.
export const eventCount = (plan: ReplyPlan): number => plan.thoughts.length + plan.chunks.length;

export interface ResponseMeta {
  model: string;
  responseId: string;
}

const textDetails = (tokenCount: number): ModalityTokenCount[] => [{ modality: 'TEXT', tokenCount }];

// Usage once the reply is complete (unary answers, the last stream event).
export function finalUsage(plan: Pick<ReplyPlan, 'promptTokens' | 'promptDetails' | 'candidatesTokens' | 'thoughtsTokens'>): WireUsageMetadata {
  return {
    promptTokenCount: plan.promptTokens,
    ...(plan.candidatesTokens > 0 ? { candidatesTokenCount: plan.candidatesTokens } : {}),
    totalTokenCount: plan.promptTokens + plan.candidatesTokens + plan.thoughtsTokens,
    promptTokensDetails: plan.promptDetails,
    ...(plan.candidatesTokens > 0 ? { candidatesTokensDetails: textDetails(plan.candidatesTokens) } : {}),
    ...(plan.thoughtsTokens > 0 ? { thoughtsTokenCount: plan.thoughtsTokens } : {}),
  };
}

// Usage on the events before the last: the prompt count arrives early, candidate counts only at the end.
function interimUsage(plan: ReplyPlan, first: boolean): WireUsageMetadata {
  return {
    promptTokenCount: plan.promptTokens,
    totalTokenCount: plan.promptTokens + plan.thoughtsTokens,
    ...(first ? { promptTokensDetails: plan.promptDetails } : {}),
    ...(plan.thoughtsTokens > 0 ? { thoughtsTokenCount: plan.thoughtsTokens } : {}),
  };
}

const CANDIDATE_SAFETY_RATINGS: WireSafetyRating[] = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'HIGH' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

const PROMPT_SAFETY_RATINGS: WireSafetyRating[] = [
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'HIGH' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
];

// Empty answer text is no part at all: a candidate can have no `parts`.
function candidate(parts: WirePart[], finishReason: string | undefined, grounding?: WireGroundingMetadata): WireCandidate {
  const sent = parts.filter((part) => part.thought === true || part.text !== '');
  return {
    content: sent.length === 0 ? { role: 'model' } : { parts: sent, role: 'model' },
    ...(finishReason !== undefined ? { finishReason } : {}),
    index: 0,
    ...(finishReason === 'SAFETY' ? { safetyRatings: CANDIDATE_SAFETY_RATINGS } : {}),
    ...(grounding ? { groundingMetadata: grounding } : {}),
  };
}

const thoughtPart = (text: string): WirePart => ({ text, thought: true });

// A unary answer's parts: all thought summaries as one thought part, then the answer.
const unaryParts = (plan: ReplyPlan, text: string): WirePart[] => [
  ...(plan.thoughts.length > 0 ? [thoughtPart(plan.thoughts.join('\n\n'))] : []),
  { text },
];

// Every stream event's delta, in order.
const streamDeltas = (plan: ReplyPlan): WirePart[] => [...plan.thoughts.map(thoughtPart), ...plan.chunks.map((text) => ({ text }))];

// Grounding for the finished answer; segments index the answer part, which follows the thought part if any.
const groundingOf = (plan: ReplyPlan, partIndex: number): WireGroundingMetadata | undefined =>
  plan.searchQuery === undefined ? undefined : groundingMetadata(plan.searchQuery, plan.text, partIndex);

export function unaryResponse(plan: ReplyPlan, meta: ResponseMeta): GenerateContentResponseBody {
  return {
    candidates: [candidate(unaryParts(plan, plan.text), plan.finishReason, groundingOf(plan, plan.thoughts.length > 0 ? 1 : 0))],
    usageMetadata: finalUsage(plan),
    modelVersion: meta.model,
    responseId: meta.responseId,
  };
}

// A unary answer that stopped early: the first `chunkCount` deltas, no finishReason.
export function unfinishedUnaryResponse(plan: ReplyPlan, chunkCount: number, meta: ResponseMeta): GenerateContentResponseBody {
  const text = plan.chunks.slice(0, chunkCount).join('');
  return {
    candidates: [candidate(unaryParts(plan, text), undefined)],
    usageMetadata: finalUsage({ ...plan, candidatesTokens: countTextTokens(text) }),
    modelVersion: meta.model,
    responseId: meta.responseId,
  };
}

// One stream event per thought summary, then per chunk; only the last carries finishReason, the final usage and
// the grounding (offsets into the whole answer text, which the chunks concatenate to).
export function streamResponses(plan: ReplyPlan, meta: ResponseMeta): GenerateContentResponseBody[] {
  const deltas = streamDeltas(plan);
  return deltas.map((delta, i) => {
    const last = i === deltas.length - 1;
    return {
      candidates: [candidate([delta], last ? plan.finishReason : undefined, last ? groundingOf(plan, 0) : undefined)],
      usageMetadata: last ? finalUsage(plan) : interimUsage(plan, i === 0),
      modelVersion: meta.model,
      responseId: meta.responseId,
    };
  });
}

// The events of a stream that never finishes: the first `count` deltas, none with a finishReason.
export function unfinishedStreamResponses(plan: ReplyPlan, count: number, meta: ResponseMeta): GenerateContentResponseBody[] {
  return streamDeltas(plan)
    .slice(0, count)
    .map((delta, i) => ({
    candidates: [candidate([delta], undefined)],
    usageMetadata: interimUsage(plan, i === 0),
    modelVersion: meta.model,
    responseId: meta.responseId,
  }));
}

// Prompt blocked: HTTP 200, promptFeedback, no candidates, prompt-only usage (the same body for the unary answer
// and the single stream event).
export function blockedResponse(reason: string, promptTokens: number, model: string): Omit<GenerateContentResponseBody, 'responseId'> {
  return {
    promptFeedback: { blockReason: reason, ...(reason === 'SAFETY' ? { safetyRatings: PROMPT_SAFETY_RATINGS } : {}) },
    usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
    modelVersion: model,
  };
}
