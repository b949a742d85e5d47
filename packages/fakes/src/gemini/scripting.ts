import type { IncomingHttpHeaders } from 'node:http';
import type { ApiVersion, GenerateContentRequestBody, WireContent } from './wire.types.js';

// What the fake does with a generation request (generateContent or streamGenerateContent). countTokens and
// the model listing are never scripted: a scripted failure must hit the call a test is aiming at.

// Timing and chunking; every kind accepts them. Delays are in milliseconds.
export interface Pacing {
  // Before the first byte of the answer (time to first token). Unary answers also wait for every chunk delay.
  firstChunkDelayMs?: number;
  // Between two streamed chunks.
  chunkDelayMs?: number;
  // Exact number of chunks (wins over chunkChars), or characters per chunk.
  chunks?: number;
  chunkChars?: number;
}

// Shapes the produced text; meaningful for the kinds that produce text.
export interface ReplyShape {
  // Fixed reply text instead of the default echo.
  text?: string;
  // Override the finishReason (e.g. SAFETY adds HIGH safetyRatings to the candidate).
  finishReason?: string;
  // Thinking tokens to report; they count against maxOutputTokens before the visible text does.
  thoughtsTokenCount?: number;
}

interface ScriptCommon extends Pacing {
  // How many requests this script serves: in the queue it defaults to 1, for rules and markers to "all".
  times?: number;
}

export type FakeGeminiScript =
  // A normal answer (the default echo, or `text`).
  | (ScriptCommon & ReplyShape & { kind: 'reply' })
  // A normal answer with slow defaults (200 ms to first chunk, 100 ms between chunks) unless overridden.
  | (ScriptCommon & ReplyShape & { kind: 'slow' })
  // A Google error body with this HTTP status, before any streaming. 429 carries RetryInfo.
  | (ScriptCommon & {
      kind: 'fail';
      status: number;
      message?: string;
      retryDelaySeconds?: number;
      // The stream endpoint has been recorded answering errors as text/event-stream; the SDK then wraps the body.
      contentType?: 'json' | 'event-stream';
    })
  // Prompt blocked: HTTP 200 with promptFeedback.blockReason and no candidates.
  | (ScriptCommon & { kind: 'block'; reason?: string })
  // Send `afterChunks` events (default 1), then (with midJson, the default) half of the next one, then destroy
  // the socket. Unary: half the body, then destroy.
  | (ScriptCommon & ReplyShape & { kind: 'cut'; afterChunks?: number; midJson?: boolean })
  // Send `afterChunks` events (default 1) and end the response cleanly, never sending a finishReason. With
  // midJson, half of the next event goes out first (the SDK then throws "Incomplete JSON segment at the end").
  | (ScriptCommon & ReplyShape & { kind: 'stop'; afterChunks?: number; midJson?: boolean })
  // Send `afterChunks` events (default 0: not even headers), then wait until the client goes away or close().
  | (ScriptCommon & ReplyShape & { kind: 'hang'; afterChunks?: number });

export type ScriptKind = FakeGeminiScript['kind'];

// What rules, reply generators and thinking callbacks see of a generation request.
export interface GenerateRequestView {
  model: string;
  apiVersion: ApiVersion;
  stream: boolean;
  body: GenerateContentRequestBody;
  // Text of the last user turn as sent (markers included).
  lastUserText: string;
  headers: IncomingHttpHeaders;
}

export interface FakeGeminiRule {
  // A string matches when the last user message contains it; a RegExp is tested against it.
  match: string | RegExp | ((request: GenerateRequestView) => boolean);
  script: FakeGeminiScript;
  // How many matching requests the rule serves before retiring (default: script.times, else unlimited).
  times?: number;
}

export type ScriptSource = 'queue' | 'rule' | 'marker' | 'default';

export function lastUserText(contents: WireContent[] | undefined): string {
  for (let i = (contents?.length ?? 0) - 1; i >= 0; i--) {
    const content = contents?.[i];
    if (!content || content.role === 'model') continue;
    return (content.parts ?? [])
      .map((part) => (typeof part.text === 'string' ? part.text : ''))
      .join('');
  }
  return '';
}

export function userTurnCount(contents: WireContent[] | undefined): number {
  return (contents ?? []).filter((c) => c.role !== 'model').length;
}

// ---- validation of scripts that arrive as JSON over the control surface --------------------------------------

export class ScriptError extends Error {
  override name = 'ScriptError';
}

const PACING_FIELDS = ['firstChunkDelayMs', 'chunkDelayMs', 'chunks', 'chunkChars', 'times'] as const;
const REPLY_FIELDS = ['text', 'finishReason', 'thoughtsTokenCount'] as const;
const FIELDS_BY_KIND: Record<ScriptKind, readonly string[]> = {
  reply: [...PACING_FIELDS, ...REPLY_FIELDS],
  slow: [...PACING_FIELDS, ...REPLY_FIELDS],
  fail: [...PACING_FIELDS, 'status', 'message', 'retryDelaySeconds', 'contentType'],
  block: [...PACING_FIELDS, 'reason'],
  cut: [...PACING_FIELDS, ...REPLY_FIELDS, 'afterChunks', 'midJson'],
  stop: [...PACING_FIELDS, ...REPLY_FIELDS, 'afterChunks', 'midJson'],
  hang: [...PACING_FIELDS, ...REPLY_FIELDS, 'afterChunks'],
};
const NUMBER_FIELDS = new Set([...PACING_FIELDS, 'thoughtsTokenCount', 'status', 'retryDelaySeconds', 'afterChunks']);
const STRING_FIELDS = new Set(['text', 'finishReason', 'message', 'reason']);

export function parseScript(value: unknown): FakeGeminiScript {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ScriptError('a script must be an object');
  const record = value as Record<string, unknown>;
  const kind = record.kind;
  if (typeof kind !== 'string' || !(kind in FIELDS_BY_KIND)) {
    throw new ScriptError(`script.kind must be one of ${Object.keys(FIELDS_BY_KIND).join(', ')}`);
  }
  const allowed = FIELDS_BY_KIND[kind as ScriptKind];
  for (const [field, v] of Object.entries(record)) {
    if (field === 'kind') continue;
    if (!allowed.includes(field)) throw new ScriptError(`script.${field} is not allowed for kind "${kind}"`);
    if (NUMBER_FIELDS.has(field) && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new ScriptError(`script.${field} must be a non-negative number`);
    }
    if (STRING_FIELDS.has(field) && typeof v !== 'string') throw new ScriptError(`script.${field} must be a string`);
  }
  if (kind === 'fail') {
    const status = record.status;
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
      throw new ScriptError('script.status must be an HTTP error status (400-599)');
    }
    if (record.contentType !== undefined && record.contentType !== 'json' && record.contentType !== 'event-stream') {
      throw new ScriptError('script.contentType must be "json" or "event-stream"');
    }
  }
  if (record.midJson !== undefined && typeof record.midJson !== 'boolean') throw new ScriptError('script.midJson must be a boolean');
  return record as unknown as FakeGeminiScript;
}
