import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordCut, type RecordedRequest } from './request-recording.js';
import type { GoogleRpcErrorBody } from './wire.types.js';

// Reading a request and writing its answer the way Google's front end does (headers, pretty-printed JSON), with
// waits that end as soon as the connection does.

export const JSON_TYPE = 'application/json; charset=UTF-8';
// Headers the real service sends on every answer.
const GOOGLE_HEADERS = {
  vary: 'Origin, X-Origin, Referer',
  server: 'scaffolding on HTTPServer2',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'x-xss-protection': '0',
};
// Gemini takes up to 100 MB of inline data per request, base64 included.
export const MAX_BODY_BYTES = 100 * 1024 * 1024;

// One Gemini request being answered.
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  record: RecordedRequest;
  // Aborted when the connection closes (either side) or the fake shuts down; every wait listens to it.
  signal: AbortSignal;
}

// A request the client got wrong: answered 400, as Google does.
export class BadRequest extends Error {}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`Request payload size exceeds the limit: ${MAX_BODY_BYTES} bytes.`);
    parts.push(part);
  }
  const text = Buffer.concat(parts).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BadRequest(`Invalid JSON payload received. ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

export const asObject = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  contentType = JSON_TYPE,
  headers: Record<string, string> = {},
): void {
  // Google pretty-prints its JSON answers; SDKs parse either way.
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...GOOGLE_HEADERS, ...headers });
  res.end(text);
}

export function sendOk(ex: Exchange, body: unknown, headers: Record<string, string> = {}): void {
  ex.record.status = 200;
  sendJson(ex.res, 200, body, JSON_TYPE, headers);
}

// A request's raw bytes (an upload chunk). Past `limit` bytes the rest is read and dropped, so the client can
// still be answered, and `overflow` says so.
export async function readRawBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer; overflow: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > limit) overflow = true;
    if (!overflow) parts.push(part);
  }
  return { bytes: overflow ? Buffer.alloc(0) : Buffer.concat(parts), overflow };
}

// A single request header's value ('' when absent).
export function header(ex: Exchange, name: string): string {
  const value = ex.req.headers[name.toLowerCase()];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

export function sendError(ex: Exchange, body: GoogleRpcErrorBody, contentType = JSON_TYPE): void {
  ex.record.status = body.error.code;
  sendJson(ex.res, body.error.code, body, contentType);
}

// For answers whose length is not known up front: the status and headers go out with the first bytes.
export function writeHeadOnce(ex: Exchange, contentType: string): void {
  if (ex.res.headersSent) return;
  ex.record.status = 200;
  ex.res.writeHead(200, {
    'content-type': contentType,
    ...(contentType === 'text/event-stream' ? { 'content-disposition': 'attachment' } : {}),
    ...GOOGLE_HEADERS,
  });
}

// Sends the headers (with the full length) and half the body, then cuts the connection.
export function sendHalfThenCut(ex: Exchange, body: string): void {
  const bytes = Buffer.from(body);
  ex.record.status = 200;
  ex.res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': bytes.length, ...GOOGLE_HEADERS });
  ex.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
  cutConnection(ex);
}

// Ends the connection in the middle of the answer. end() first flushes what was written (a bare destroy()
// could drop it), then the socket is destroyed, so the client sees a body that stops short.
export function cutConnection(ex: Exchange): void {
  recordCut(ex.record);
  const socket = ex.req.socket;
  socket.end(() => socket.destroy());
}

// Resolves true after `ms`, or false as soon as `signal` aborts (clearing the timer).
export async function pause(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (!ms || ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
