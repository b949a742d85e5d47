import type { FileStore } from './file-store.js';
import { googleError } from './gemini-errors.js';
import { asObject, sendError, sendOk, type Exchange } from './http-exchange.js';
import { collectMedia } from './received-files.js';
import { countPromptUsage } from './token-counting.js';
import type { GenerateContentRequestBody, WireContent } from './wire.types.js';

// POST /{version}/models/{model}:countTokens. Never scripted: a scripted failure must hit the call a test is
// aiming at, which is generation.

// @google/genai sends { contents }; the legacy SDK wraps the whole request, systemInstruction included, in
// { generateContentRequest }. Both count with the same rule as promptTokenCount, media included, and refuse
// the media a generation would refuse.
export function countTokens(ex: Exchange, files: FileStore): void {
  const body = asObject(ex.record.body);
  const wrapped = asObject(body.generateContentRequest);
  const request = (body.generateContentRequest !== undefined ? wrapped : body) as GenerateContentRequestBody;
  if (!Array.isArray(request.contents)) {
    return sendError(ex, googleError(400, { message: '* CountTokensRequest.contents: contents is not specified\n' }));
  }
  const media = collectMedia(request.contents as WireContent[], files);
  if ('error' in media) return sendError(ex, media.error);
  ex.record.files = media.files;
  const usage = countPromptUsage(request, media.files);
  sendOk(ex, { totalTokens: usage.total, promptTokensDetails: usage.details });
}
