import { googleError } from './gemini-errors.js';
import { asObject, sendError, sendOk, type Exchange } from './http-exchange.js';
import { countPromptTokens } from './token-counting.js';
import type { GenerateContentRequestBody } from './wire.types.js';

// POST /{version}/models/{model}:countTokens. Never scripted: a scripted failure must hit the call a test is
// aiming at, which is generation.

// @google/genai sends { contents }; the legacy SDK wraps the whole request, systemInstruction included, in
// { generateContentRequest }. Both count with the same rule as promptTokenCount.
export function countTokens(ex: Exchange): void {
  const body = asObject(ex.record.body);
  const wrapped = asObject(body.generateContentRequest);
  const request = (body.generateContentRequest !== undefined ? wrapped : body) as GenerateContentRequestBody;
  if (!Array.isArray(request.contents)) {
    return sendError(ex, googleError(400, { message: '* CountTokensRequest.contents: contents is not specified\n' }));
  }
  const totalTokens = countPromptTokens(request);
  sendOk(ex, { totalTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }] });
}
