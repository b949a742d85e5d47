import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ReceivedFile } from './received-files.js';
import type { FakeGeminiScript, ScriptSource } from './scripting.js';
import type { ApiVersion, WireThinkingConfig } from './wire.types.js';

// What the fake remembers of every Gemini request, so a test can assert on what its code sent and on how the
// answer ended.

export type RequestAction =
  | 'generateContent'
  | 'streamGenerateContent'
  | 'countTokens'
  | 'listModels'
  | 'getModel'
  | 'files.upload'
  | 'files.uploadChunk'
  | 'files.get'
  | 'files.list'
  | 'files.delete'
  | 'unknown';

// One chunk of a resumable upload, as it arrived.
export interface RecordedUploadChunk {
  // The X-Goog-Upload-Command header, e.g. "upload" or "upload, finalize".
  command: string;
  // X-Goog-Upload-Offset as sent (undefined when absent or not a number).
  offset: number | undefined;
  bytes: number;
}

// pending: still being answered; completed: the whole response was written; client-aborted: the client closed
// the connection before that; server-cut: a `cut` script destroyed the socket; server-closed: close() ended it.
export type RequestOutcome = 'pending' | 'completed' | 'client-aborted' | 'server-cut' | 'server-closed';

export interface RecordedRequest {
  seq: number;
  method: string;
  // Path without the query string, e.g. /v1beta/models/gemini-2.5-flash:streamGenerateContent.
  path: string;
  query: Record<string, string>;
  apiVersion: ApiVersion | undefined;
  model: string | undefined;
  action: RequestAction;
  // Parsed JSON body (undefined when there was none).
  body: unknown;
  // The text of the last user turn of a generate request ('' for other requests): what a test usually matches on.
  lastUserText: string;
  // As sent in a generate request (undefined when absent): generationConfig.thinkingConfig and the top-level tools.
  thinkingConfig: WireThinkingConfig | undefined;
  tools: unknown[] | undefined;
  // The media parts of a generate or countTokens request, in order (turn, then part), inline and by fileUri alike.
  files: ReceivedFile[];
  // Files API calls: the file concerned (`files/<id>`), once known; for an upload, the file it created.
  fileName: string | undefined;
  // Upload chunks only.
  upload: RecordedUploadChunk | undefined;
  headers: IncomingHttpHeaders;
  receivedAt: number;
  // Filled in while the request is answered:
  script: FakeGeminiScript | undefined;
  scriptSource: ScriptSource | undefined;
  status: number | undefined;
  // Stream events written in full.
  eventsSent: number;
  outcome: RequestOutcome;
  clientAborted: boolean;
  endedAt: number | undefined;
}

// A request as it arrives: routing, the body and the answer fill in the rest.
export function newRecord(seq: number, req: IncomingMessage, url: URL): RecordedRequest {
  return {
    seq,
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    apiVersion: undefined,
    model: undefined,
    action: 'unknown',
    body: undefined,
    lastUserText: '',
    thinkingConfig: undefined,
    tools: undefined,
    files: [],
    fileName: undefined,
    upload: undefined,
    headers: req.headers,
    receivedAt: Date.now(),
    script: undefined,
    scriptSource: undefined,
    status: undefined,
    eventsSent: 0,
    outcome: 'pending',
    clientAborted: false,
    endedAt: undefined,
  };
}

// The response was written in full (unless a cut already decided the outcome).
export function recordFinished(record: RecordedRequest): void {
  if (record.outcome === 'pending') record.outcome = 'completed';
}

// A `cut` script is ending the connection on purpose.
export function recordCut(record: RecordedRequest): void {
  if (record.outcome === 'pending') record.outcome = 'server-cut';
}

// The connection closed. If the answer was still pending, the fake's own close() ended it, or else the client.
export function recordClosed(record: RecordedRequest, serverShuttingDown: boolean): void {
  if (record.outcome === 'pending') {
    record.outcome = serverShuttingDown ? 'server-closed' : 'client-aborted';
    record.clientAborted = !serverShuttingDown;
  }
  record.endedAt = Date.now();
}
