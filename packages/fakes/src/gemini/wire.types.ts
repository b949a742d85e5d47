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

export interface WireThinkingConfig {
  thinkingBudget?: number;
  // Lowercase in Google's REST docs, uppercase in the SDK's enum.
  thinkingLevel?: string;
  includeThoughts?: boolean;
  [field: string]: unknown;
}

export interface WireGenerationConfig {
  maxOutputTokens?: number;
  thinkingConfig?: WireThinkingConfig;
  [field: string]: unknown;
}

export interface GenerateContentRequestBody {
  contents?: WireContent[];
  systemInstruction?: WireContent;
  generationConfig?: WireGenerationConfig;
  safetySettings?: unknown[];
  // e.g. [{ googleSearch: {} }]
  tools?: unknown[];
  [field: string]: unknown;
}

export interface ModalityTokenCount {
  modality: 'TEXT' | 'IMAGE' | 'AUDIO' | 'VIDEO' | 'DOCUMENT';
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
  groundingMetadata?: WireGroundingMetadata;
}

export interface WireGroundingSupport {
  // UTF-8 byte offsets into the part; zero values are left out.
  segment: { partIndex?: number; startIndex?: number; endIndex: number; text: string };
  groundingChunkIndices: number[];
}

export interface WireGroundingMetadata {
  webSearchQueries: string[];
  searchEntryPoint?: { renderedContent: string };
  groundingChunks: { web: { uri: string; title: string } }[];
  groundingSupports?: WireGroundingSupport[];
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
