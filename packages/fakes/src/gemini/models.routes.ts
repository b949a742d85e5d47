import { googleError } from './gemini-errors.js';
import { sendError, sendOk, type Exchange } from './http-exchange.js';
import { findModel, modelResource, type FakeModel } from './model-catalog.js';

// GET /{version}/models and GET /{version}/models/{model}: the catalog the fake was started with. Pages as
// Google does: pageSize defaults to 50 (at most 1000), and an opaque nextPageToken leads to the next page.

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export function listModels(ex: Exchange, catalog: readonly FakeModel[]): void {
  const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(ex.url.searchParams.get('pageSize')) || DEFAULT_PAGE_SIZE));
  const offset = Number(Buffer.from(ex.url.searchParams.get('pageToken') ?? '', 'base64url').toString()) || 0;
  const page = catalog.slice(offset, offset + pageSize);
  const nextOffset = offset + pageSize;
  sendOk(ex, {
    models: page.map(modelResource),
    ...(nextOffset < catalog.length ? { nextPageToken: Buffer.from(String(nextOffset)).toString('base64url') } : {}),
  });
}

export function getModel(ex: Exchange, catalog: readonly FakeModel[]): void {
  const entry = findModel(catalog, ex.record.model ?? '');
  if (!entry) {
    return sendError(ex, googleError(404, { message: `models/${ex.record.model ?? ''} is not found for API version ${ex.record.apiVersion}.` }));
  }
  sendOk(ex, modelResource(entry));
}
