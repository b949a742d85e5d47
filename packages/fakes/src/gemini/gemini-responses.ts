import { splitIntoChunks, type ChunkingOptions } from './sse-framing.js';
import { countTextTokens, truncateToTokens } from './token-counting.js';
import type {
  GenerateContentResponseBody,
  ModalityTokenCount,
  WireCandidate,
  WireSafetyRating,
  WireUsageMetadata,
} from './wire.types.js';

// Builds Gemini's GenerateContentResponse bodies: the unary answer, the stream events (only the last carries the
// finishReason and the final usage) and the prompt block. Zero counts are left out, as proto3 JSON does (a reply
// with no text has no candidatesTokenCount).

export interface ReplyPlan {
  // The visible text actually sent (after maxOutputTokens truncation).
  text: string;
  // Stream deltas; they concatenate to `text`.
  chunks: string[];
  finishReason: string;
  promptTokens: number;
  candidatesTokens: number;
  thoughtsTokens: number;
}

export interface PlanInput {
  fullText: string;
  promptTokens: number;
  thoughtsTokens: number;
  maxOutputTokens: number | undefined;
  finishReason: string | undefined;
  chunking: ChunkingOptions;
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
    candidatesTokens: countTextTokens(text),
    thoughtsTokens,
  };
}

export interface ResponseMeta {
  model: string;
  responseId: string;
}

const textDetails = (tokenCount: number): ModalityTokenCount[] => [{ modality: 'TEXT', tokenCount }];

// Usage once the reply is complete (unary answers, the last stream event).
export function finalUsage(plan: Pick<ReplyPlan, 'promptTokens' | 'candidatesTokens' | 'thoughtsTokens'>): WireUsageMetadata {
  return {
    promptTokenCount: plan.promptTokens,
    ...(plan.candidatesTokens > 0 ? { candidatesTokenCount: plan.candidatesTokens } : {}),
    totalTokenCount: plan.promptTokens + plan.candidatesTokens + plan.thoughtsTokens,
    promptTokensDetails: textDetails(plan.promptTokens),
    ...(plan.candidatesTokens > 0 ? { candidatesTokensDetails: textDetails(plan.candidatesTokens) } : {}),
    ...(plan.thoughtsTokens > 0 ? { thoughtsTokenCount: plan.thoughtsTokens } : {}),
  };
}

// Usage on the events before the last: the prompt count arrives early, candidate counts only at the end.
function interimUsage(plan: ReplyPlan, first: boolean): WireUsageMetadata {
  return {
    promptTokenCount: plan.promptTokens,
    totalTokenCount: plan.promptTokens + plan.thoughtsTokens,
    ...(first ? { promptTokensDetails: textDetails(plan.promptTokens) } : {}),
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

function candidate(text: string, finishReason: string | undefined): WireCandidate {
  return {
    content: text === '' ? { role: 'model' } : { parts: [{ text }], role: 'model' },
    ...(finishReason !== undefined ? { finishReason } : {}),
    index: 0,
    ...(finishReason === 'SAFETY' ? { safetyRatings: CANDIDATE_SAFETY_RATINGS } : {}),
  };
}

export function unaryResponse(plan: ReplyPlan, meta: ResponseMeta): GenerateContentResponseBody {
  return {
    candidates: [candidate(plan.text, plan.finishReason)],
    usageMetadata: finalUsage(plan),
    modelVersion: meta.model,
    responseId: meta.responseId,
  };
}

// A unary answer that stopped early: the first `chunkCount` deltas, no finishReason.
export function unfinishedUnaryResponse(plan: ReplyPlan, chunkCount: number, meta: ResponseMeta): GenerateContentResponseBody {
  const text = plan.chunks.slice(0, chunkCount).join('');
  return {
    candidates: [candidate(text, undefined)],
    usageMetadata: finalUsage({ ...plan, candidatesTokens: countTextTokens(text) }),
    modelVersion: meta.model,
    responseId: meta.responseId,
  };
}

// One stream event per chunk; only the last carries finishReason and the final usage.
export function streamResponses(plan: ReplyPlan, meta: ResponseMeta): GenerateContentResponseBody[] {
  return plan.chunks.map((chunk, i) => {
    const last = i === plan.chunks.length - 1;
    return {
      candidates: [candidate(chunk, last ? plan.finishReason : undefined)],
      usageMetadata: last ? finalUsage(plan) : interimUsage(plan, i === 0),
      modelVersion: meta.model,
      responseId: meta.responseId,
    };
  });
}

// The events of a stream that never finishes: the first `count` deltas, none with a finishReason.
export function unfinishedStreamResponses(plan: ReplyPlan, count: number, meta: ResponseMeta): GenerateContentResponseBody[] {
  return plan.chunks.slice(0, count).map((chunk, i) => ({
    candidates: [candidate(chunk, undefined)],
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
