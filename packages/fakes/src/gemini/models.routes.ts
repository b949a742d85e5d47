import { googleError } from './gemini-errors.js';
import { sendError, sendOk, type Exchange } from './http-exchange.js';
import { modelResource } from './model-catalog.js';

// GET /{version}/models and GET /{version}/models/{model}: the catalog the fake was started with.

export function listModels(ex: Exchange, knownModels: readonly string[]): void {
  const pageSize = Math.min(1000, Math.max(1, Number(ex.url.searchParams.get('pageSize')) || 50));
  const offset = Number(Buffer.from(ex.url.searchParams.get('pageToken') ?? '', 'base64url').toString()) || 0;
  const page = knownModels.slice(offset, offset + pageSize);
  const nextOffset = offset + pageSize;
  sendOk(ex, {
    models: page.map(modelResource),
    ...(nextOffset < knownModels.length ? { nextPageToken: Buffer.from(String(nextOffset)).toString('base64url') } : {}),
  });
}

export function getModel(ex: Exchange, knownModels: readonly string[]): void {
  const model = ex.record.model ?? '';
  if (!knownModels.includes(model)) {
    return sendError(ex, googleError(404, { message: `models/${model} is not found for API version ${ex.record.apiVersion}.` }));
  }
  sendOk(ex, modelResource(model));
}
