// The fake Gemini API: start it with startFakeGemini() and point @google/genai at `fake.url`.
export { startFakeGemini, type FakeGemini, type FakeGeminiOptions, type FakeGeminiSettings } from './fake-gemini.server.js';
export type { RecordedRequest, RequestAction, RequestOutcome } from './request-recording.js';
export {
  parseScript,
  ScriptError,
  type FakeGeminiRule,
  type FakeGeminiScript,
  type GenerateRequestView,
  type Pacing,
  type ReplyShape,
  type ScriptKind,
  type ScriptSource,
} from './scripting.js';
export { scriptFromMarkers, stripMarkers } from './prompt-markers.js';
export { defaultReplyText } from './default-reply.js';
export { CHARS_PER_TOKEN, countContentTokens, countPromptTokens, countTextTokens, truncateToTokens } from './token-counting.js';
export { DEFAULT_CHUNK_CHARS, splitIntoChunks, sseEvent } from './sse-framing.js';
export { formatRetryDelay, googleError } from './gemini-errors.js';
export {
  DEFAULT_MODEL_CATALOG,
  DEFAULT_MODELS,
  modelResource,
  type FakeModel,
  type ThinkingLevel,
  type ThinkingSupport,
  type WireModel,
} from './model-catalog.js';
export { decideThinking, THINKING_TOKENS, thoughtSummaries, type ThinkingDecision, type ThinkingPlan } from './thinking.js';
export { groundingMetadata, searchQueryFor } from './search-grounding.js';
export type * from './wire.types.js';
