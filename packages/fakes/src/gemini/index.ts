// The fake Gemini API: start it with startFakeGemini() and point @google/genai at `fake.url`.
export { startFakeGemini, type FakeGemini, type FakeGeminiOptions, type FakeGeminiSettings } from './fake-gemini.server.js';
export type { RecordedRequest, RecordedUploadChunk, RequestAction, RequestOutcome } from './request-recording.js';
export { DEFAULT_FILE_TTL_MS, fileUri, type FakeFile, type FileState, type WireFile } from './file-store.js';
export {
  describeReceivedFile,
  receivedFilesSentence,
  SHA256_PREFIX_CHARS,
  type DescribableFile,
  type ReceivedFile,
} from './received-files.js';
export {
  AUDIO_TOKENS_PER_SECOND,
  audioTokens,
  imageTokens,
  inspectMedia,
  TOKENS_PER_IMAGE_TILE,
  TOKENS_PER_PDF_PAGE,
  type MediaFacts,
} from './media-tokens.js';
export { ASSUMED_AUDIO_BYTES_PER_SECOND, audioSeconds, imageSize, pdfPageCount, type ImageSize } from './media-inspection.js';
export { samplePdf, samplePng, sampleWav } from './media-fixtures.js';
export { essenceOf, modalityOf, SUPPORTED_MEDIA_TYPES, type MediaModality } from './media-types.js';
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
export {
  CHARS_PER_TOKEN,
  countContentTokens,
  countPromptTokens,
  countPromptUsage,
  countTextTokens,
  truncateToTokens,
  type PromptUsage,
} from './token-counting.js';
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
