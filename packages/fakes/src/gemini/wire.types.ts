// The slice of Gemini's REST wire format (generativelanguage.googleapis.com) the fake reads and writes.
// Request types are loose on purpose: the fake must accept whatever a real client sends and ignore the rest.

export type ApiVersion = 'v1' | 'v1beta';

export interface WirePart {
  text?: string;
  thought?: boolean;
  [field: string]: unknown;
}

export interface WireContent {
  // "user" | "model" in contents; the SDKs disagree on systemInstruction's role, so it is never checked.
  role?: string;
  parts?: WirePart[];
}

export interface WireGenerationConfig {
  maxOutputTokens?: number;
  thinkingConfig?: { thinkingBudget?: number; includeThoughts?: boolean; [field: string]: unknown };
  [field: string]: unknown;
}

export interface GenerateContentRequestBody {
  contents?: WireContent[];
  systemInstruction?: WireContent;
  generationConfig?: WireGenerationConfig;
  safetySettings?: unknown[];
  [field: string]: unknown;
}

export interface ModalityTokenCount {
  modality: 'TEXT';
  tokenCount: number;
}

export interface WireUsageMetadata {
  promptTokenCount: number;
  candidatesTokenCount?: number;
  totalTokenCount: number;
  promptTokensDetails?: ModalityTokenCount[];
  candidatesTokensDetails?: ModalityTokenCount[];
  thoughtsTokenCount?: number;
}

export interface WireSafetyRating {
  category: string;
  probability: 'NEGLIGIBLE' | 'LOW' | 'MEDIUM' | 'HIGH';
}

export interface WireCandidate {
  content: { parts?: WirePart[]; role: 'model' };
  finishReason?: string;
  index: number;
  safetyRatings?: WireSafetyRating[];
}

export interface GenerateContentResponseBody {
  candidates?: WireCandidate[];
  promptFeedback?: { blockReason: string; safetyRatings?: WireSafetyRating[] };
  usageMetadata: WireUsageMetadata;
  modelVersion: string;
  responseId: string;
}

// Google's RPC error envelope, the body of every non-2xx answer.
export interface GoogleRpcErrorBody {
  error: { code: number; message: string; status: string; details?: Record<string, unknown>[] };
}
