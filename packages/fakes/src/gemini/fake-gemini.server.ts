// A fake of the Gemini API (generativelanguage.googleapis.com) on node:http, for tests and offline dev.
// It speaks the wire format of shared/reference/gemini-wire.md; tests drive it through the real SDK.
//
// Checked against @google/genai 2.32.0 (dist/node/index.mjs), which is what this fake's behaviour relies on:
// - URLs are `${baseUrl}/${apiVersion}/models/${model}:${method}`; 2.32 defaults to apiVersion 'v1beta' (3.x to
//   'v1'), so both are routed. The key arrives in `x-goog-api-key`; `config.systemInstruction` is lifted to the
//   top-level `systemInstruction` (role "user"), `config.maxOutputTokens` goes to `generationConfig`.
// - Non-2xx answers become `ApiError` (exported; `name === 'ApiError'`, numeric `.status`, `.message` =
//   JSON.stringify of the parsed body) when the Content-Type contains application/json. With any other type
//   (e.g. text/event-stream) the message is `{"error":{"message":"<raw body>","code":<status>,"status":"<HTTP
//   reason phrase>"}}`, so the Google body is nested as a string. There is no parsed RetryInfo: callers read
//   `JSON.parse(err.message).error.details[@type=…RetryInfo].retryDelay` themselves. The SDK retries nothing
//   unless `httpOptions.retryOptions` is set.
// - generateContentStream rejects with that ApiError before iteration when the status is not 2xx. It splits
//   the body on \n\n, \r\r or \r\n\r\n, strips `data:`, and JSON-parses each event; a chunk that parses to
//   `{"error":{code 4xx/5xx}}` also throws ApiError. Leftover bytes at a clean EOF throw
//   "Incomplete JSON segment at the end"; a socket destroyed mid-body makes undici's reader throw
//   `TypeError: terminated` (cause: SocketError "other side closed"), which the iterator rethrows.
// - Automatic continuation (on by default in 2.x) only reconnects when the server sent a continuationToken,
//   which this fake never does, so a cut stream surfaces its error and a stream that ends without a
//   finishReason just ends (no error: the caller must notice the missing finishReason).
// - `config.abortSignal` aborts fetch: the promise or the iterator rejects with a DOMException named
//   'AbortError' and undici destroys the socket, which this fake records as `clientAborted`.
// - A prompt block (200, promptFeedback, no candidates) is not an error: `response.text` is undefined and
//   `response.promptFeedback.blockReason` is set. countTokens sends only `contents`; the SDK refuses
//   `config.systemInstruction` there on the Gemini API (it throws before any request).

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleControlRequest, CONTROL_PREFIX } from './control.routes.js';
import { defaultReplyText } from './default-reply.js';
import { googleError, invalidApiKeyError, missingApiKeyError, unknownRouteError } from './gemini-errors.js';
import {
  blockedResponse,
  planReply,
  streamResponses,
  unaryResponse,
  unfinishedStreamResponses,
  unfinishedUnaryResponse,
  type ReplyPlan,
} from './gemini-responses.js';
import { bareModelId, DEFAULT_MODELS, modelResource } from './model-catalog.js';
import { ScriptBook } from './script-book.js';
import {
  lastUserText,
  type FakeGeminiRule,
  type FakeGeminiScript,
  type GenerateRequestView,
  type Pacing,
  type ScriptSource,
} from './scripting.js';
import { jsonArrayStream, sseEvent } from './sse-framing.js';
import { countPromptTokens } from './token-counting.js';
import type { ApiVersion, GenerateContentRequestBody, GoogleRpcErrorBody, WireContent } from './wire.types.js';

export interface FakeGeminiSettings extends Pacing {
  // Thinking tokens reported on every reply (default 0: none). A request with thinkingBudget 0 gets none.
  thoughtsTokenCount?: number | ((request: GenerateRequestView) => number);
  // Replaces the default echo reply (see defaultReplyText).
  reply?: (request: GenerateRequestView) => string;
}

export interface FakeGeminiOptions extends FakeGeminiSettings {
  // Default 0 (an ephemeral port) on 127.0.0.1.
  port?: number;
  host?: string;
  // When set, only this key is accepted (others get 400 API_KEY_INVALID); otherwise any non-empty key is.
  apiKey?: string;
  // Ids listed by GET /{version}/models.
  models?: readonly string[];
  // Answer 404 NOT_FOUND for generation on ids not in `models` (default: serve any id).
  rejectUnknownModels?: boolean;
  // Serve the /__fake/* control surface (default true).
  controlRoutes?: boolean;
}

export type RequestAction = 'generateContent' | 'streamGenerateContent' | 'countTokens' | 'listModels' | 'getModel' | 'unknown';

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

export interface FakeGemini {
  // Base URL for `new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } })`, e.g. http://127.0.0.1:53211.
  readonly url: string;
  readonly port: number;
  // Every Gemini request received, in order (live: entries update as their answers progress).
  readonly requests: readonly RecordedRequest[];
  // Scripts for the next generation requests, in order; each serves `times` requests (default 1).
  enqueue(...scripts: FakeGeminiScript[]): void;
  // A standing script for generation requests that match; checked after the queue, in the order added.
  addRule(rule: FakeGeminiRule): void;
  // Changes the default pacing / thinking for later requests (reset() restores the start options).
  configure(settings: FakeGeminiSettings): void;
  // Forgets requests, queue, rules, marker counters and configure() changes. In-flight answers go on.
  reset(): void;
  // Resolves once no request is being answered (e.g. after an abort, to read `clientAborted`).
  settled(): Promise<void>;
  // Stops listening and ends every connection at once, hung ones included; cancels all pending timers.
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=UTF-8';
// Headers the real service sends on every answer.
const GOOGLE_HEADERS = {
  vary: 'Origin, X-Origin, Referer',
  server: 'scaffolding on HTTPServer2',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'x-xss-protection': '0',
};
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const SLOW_DEFAULTS = { firstChunkDelayMs: 200, chunkDelayMs: 100 };
const ROUTE_METHOD = /^\/(v1|v1beta)\/models\/([^/:]+):([A-Za-z]+)$/;
const ROUTE_MODELS = /^\/(v1|v1beta)\/models\/?$/;
const ROUTE_MODEL = /^\/(v1|v1beta)\/models\/([^/:]+)$/;

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  record: RecordedRequest;
  // Aborted when the connection closes (either side) or the fake shuts down; every wait listens to it.
  signal: AbortSignal;
}

class BadRequest extends Error {}

export class FakeGeminiServer implements FakeGemini {
  readonly url: string;
  readonly port: number;
  private readonly records: RecordedRequest[] = [];
  private readonly book = new ScriptBook();
  private readonly inFlight = new Map<Exchange, AbortController>();
  private readonly idleWaiters: (() => void)[] = [];
  private settings: FakeGeminiSettings;
  private seq = 0;
  private responseSeq = 0;
  private shuttingDown = false;
  private closed: Promise<void> | undefined;

  constructor(
    private readonly server: Server,
    private readonly options: FakeGeminiOptions,
  ) {
    const address = server.address() as AddressInfo;
    this.port = address.port;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.url = `http://${host}:${address.port}`;
    this.settings = pickSettings(options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  get requests(): readonly RecordedRequest[] {
    return this.records;
  }

  get queuedScripts(): number {
    return this.book.queued;
  }

  enqueue(...scripts: FakeGeminiScript[]): void {
    this.book.enqueue(scripts);
  }

  addRule(rule: FakeGeminiRule): void {
    this.book.addRule(rule);
  }

  configure(settings: FakeGeminiSettings): void {
    this.settings = { ...this.settings, ...settings };
  }

  reset(): void {
    this.records.length = 0;
    this.book.reset();
    this.settings = pickSettings(this.options);
  }

  settled(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.shuttingDown = true;
      for (const controller of this.inFlight.values()) controller.abort();
      this.server.close(() => resolve());
      // Idle keep-alive sockets and hung answers alike: nothing may keep the process (or a test) waiting.
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  // ---- plumbing ------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-gemini.invalid');
    if (url.pathname.startsWith(CONTROL_PREFIX) && this.options.controlRoutes !== false) {
      try {
        await handleControlRequest(this, req.method ?? 'GET', url, await readJsonBody(req), res);
      } catch (err) {
        this.answerFailure(res, undefined, err);
      }
      return;
    }
    const exchange = this.begin(req, res, url);
    try {
      await this.route(exchange);
    } catch (err) {
      this.answerFailure(res, exchange.record, err);
    }
  }

  // A body that is not JSON is the client's fault (400, as Google answers); anything else is a bug in the fake,
  // reported as a 500 so that the test sees it rather than a hang.
  private answerFailure(res: ServerResponse, record: RecordedRequest | undefined, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const code = err instanceof BadRequest ? 400 : 500;
    if (record) record.status = code;
    sendJson(res, code, googleError(code, { message: err instanceof BadRequest ? err.message : `fake Gemini failed: ${String(err)}` }));
  }

  private begin(req: IncomingMessage, res: ServerResponse, url: URL): Exchange {
    const record: RecordedRequest = {
      seq: ++this.seq,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      apiVersion: undefined,
      model: undefined,
      action: 'unknown',
      body: undefined,
      lastUserText: '',
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
    this.records.push(record);
    const controller = new AbortController();
    const exchange: Exchange = { req, res, url, record, signal: controller.signal };
    this.inFlight.set(exchange, controller);
    res.on('finish', () => {
      if (record.outcome === 'pending') record.outcome = 'completed';
    });
    res.on('close', () => {
      if (record.outcome === 'pending') {
        record.outcome = this.shuttingDown ? 'server-closed' : 'client-aborted';
        record.clientAborted = !this.shuttingDown;
      }
      record.endedAt = Date.now();
      controller.abort();
      this.inFlight.delete(exchange);
      if (this.inFlight.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
    return exchange;
  }

  private async route(ex: Exchange): Promise<void> {
    const { record } = ex;
    const method = record.method;
    const call = ROUTE_METHOD.exec(record.path);
    const list = ROUTE_MODELS.exec(record.path);
    const get = ROUTE_MODEL.exec(record.path);
    const match = call ?? list ?? get;
    if (match) {
      record.apiVersion = match[1] as ApiVersion;
      record.model = match[2] === undefined ? undefined : bareModelId(decodeURIComponent(match[2]));
    }
    const action = call?.[3];
    if (call && method === 'POST' && (action === 'generateContent' || action === 'streamGenerateContent' || action === 'countTokens')) {
      record.action = action;
    } else if (list && method === 'GET') {
      record.action = 'listModels';
    } else if (get && method === 'GET') {
      record.action = 'getModel';
    }
    if (method === 'POST') record.body = await readJsonBody(ex.req);
    else await drain(ex.req);
    if (record.action === 'unknown') return this.sendError(ex, unknownRouteError());

    const authError = this.checkApiKey(ex);
    if (authError) return this.sendError(ex, authError);

    switch (record.action) {
      case 'listModels':
        return this.listModels(ex);
      case 'getModel':
        return this.getModel(ex);
      case 'countTokens':
        return this.countTokens(ex);
      default:
        return this.generate(ex, record.action === 'streamGenerateContent');
    }
  }

  private checkApiKey(ex: Exchange): GoogleRpcErrorBody | undefined {
    const header = ex.req.headers['x-goog-api-key'];
    const key = (Array.isArray(header) ? header[0] : header) ?? ex.url.searchParams.get('key') ?? '';
    if (key === '') return missingApiKeyError();
    if (this.options.apiKey !== undefined && key !== this.options.apiKey) return invalidApiKeyError();
    return undefined;
  }

  private sendError(ex: Exchange, body: GoogleRpcErrorBody, contentType = JSON_TYPE): void {
    ex.record.status = body.error.code;
    sendJson(ex.res, body.error.code, body, contentType);
  }

  private get knownModels(): readonly string[] {
    return this.options.models ?? DEFAULT_MODELS;
  }

  // ---- models --------------------------------------------------------------------------------------------

  private listModels(ex: Exchange): void {
    const pageSize = Math.min(1000, Math.max(1, Number(ex.url.searchParams.get('pageSize')) || 50));
    const offset = Number(Buffer.from(ex.url.searchParams.get('pageToken') ?? '', 'base64url').toString()) || 0;
    const page = this.knownModels.slice(offset, offset + pageSize);
    const nextOffset = offset + pageSize;
    ex.record.status = 200;
    sendJson(ex.res, 200, {
      models: page.map(modelResource),
      ...(nextOffset < this.knownModels.length ? { nextPageToken: Buffer.from(String(nextOffset)).toString('base64url') } : {}),
    });
  }

  private getModel(ex: Exchange): void {
    const model = ex.record.model ?? '';
    if (!this.knownModels.includes(model)) {
      return this.sendError(ex, googleError(404, { message: `models/${model} is not found for API version ${ex.record.apiVersion}.` }));
    }
    ex.record.status = 200;
    sendJson(ex.res, 200, modelResource(model));
  }

  // ---- countTokens ---------------------------------------------------------------------------------------

  // @google/genai sends { contents }; the legacy SDK wraps the whole request, systemInstruction included, in
  // { generateContentRequest }. Both count with the same rule as promptTokenCount.
  private countTokens(ex: Exchange): void {
    const body = asObject(ex.record.body);
    const wrapped = asObject(body.generateContentRequest);
    const request = (body.generateContentRequest !== undefined ? wrapped : body) as GenerateContentRequestBody;
    if (!Array.isArray(request.contents)) {
      return this.sendError(ex, googleError(400, { message: '* CountTokensRequest.contents: contents is not specified\n' }));
    }
    const totalTokens = countPromptTokens(request);
    ex.record.status = 200;
    sendJson(ex.res, 200, { totalTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }] });
  }

  // ---- generation ----------------------------------------------------------------------------------------

  private async generate(ex: Exchange, stream: boolean): Promise<void> {
    const { record } = ex;
    const model = record.model ?? '';
    const body = asObject(record.body) as GenerateContentRequestBody;
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return this.sendError(ex, googleError(400, { message: '* GenerateContentRequest.contents: contents is not specified\n' }));
    }
    if (this.options.rejectUnknownModels && !this.knownModels.includes(model)) {
      return this.sendError(ex, googleError(404, { model, apiVersion: record.apiVersion }));
    }
    record.lastUserText = lastUserText(body.contents as WireContent[]);
    const view: GenerateRequestView = {
      model,
      apiVersion: record.apiVersion ?? 'v1beta',
      stream,
      body,
      lastUserText: record.lastUserText,
      headers: ex.req.headers,
    };
    const { script, source } = this.book.next(view);
    record.script = script;
    record.scriptSource = source;
    const pacing = this.pacingFor(script);
    const promptTokens = countPromptTokens(body);

    if (script.kind === 'fail') {
      if (!(await pause(pacing.firstChunkDelayMs, ex.signal))) return;
      const error = googleError(script.status, {
        message: script.message,
        retryDelaySeconds: script.retryDelaySeconds,
        model,
        apiVersion: record.apiVersion,
      });
      return this.sendError(ex, error, stream && script.contentType === 'event-stream' ? 'text/event-stream' : JSON_TYPE);
    }

    if (script.kind === 'block') {
      if (!(await pause(pacing.firstChunkDelayMs, ex.signal))) return;
      const blocked = blockedResponse(script.reason ?? 'SAFETY', promptTokens, model);
      if (!stream) {
        record.status = 200;
        return sendJson(ex.res, 200, blocked);
      }
      return void (await this.writeStream(ex, [blocked], { ...pacing, firstChunkDelayMs: 0 }));
    }

    const plan = planReply({
      fullText: script.text ?? this.settings.reply?.(view) ?? defaultReplyText(body),
      promptTokens,
      thoughtsTokens: this.thoughtsFor(script, view),
      maxOutputTokens: positiveInt(body.generationConfig?.maxOutputTokens),
      finishReason: script.finishReason,
      chunking: { chunks: pacing.chunks, chunkChars: pacing.chunkChars },
    });
    const meta = { model, responseId: this.nextResponseId() };
    // Never the last event: a cut or hang must not deliver the finishReason.
    const partial = (requested: number | undefined, fallback: number) =>
      Math.min(requested ?? fallback, plan.chunks.length - 1);

    // The broken-stream scripts below always frame as SSE, the only mode the SDKs use.
    switch (script.kind) {
      case 'cut': {
        const sent = partial(script.afterChunks, 1);
        if (!stream) return this.cutUnary(ex, JSON.stringify(unaryResponse(plan, meta)), pacing);
        const events = streamResponses(plan, meta);
        if (!(await this.writeStream(ex, events.slice(0, sent), pacing, false))) return;
        if (!(await pause(sent > 0 ? pacing.chunkDelayMs : pacing.firstChunkDelayMs, ex.signal))) return;
        this.writeHeadOnce(ex, 'text/event-stream');
        const next = events[sent];
        if (script.midJson !== false && next !== undefined) {
          const bytes = Buffer.from(sseEvent(next));
          ex.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
        } else {
          ex.res.flushHeaders();
        }
        return this.cut(ex);
      }
      case 'stop': {
        if (!stream) {
          const sent = Math.min(script.afterChunks ?? 1, plan.chunks.length);
          if (!(await pause(totalDelay(pacing, sent), ex.signal))) return;
          record.status = 200;
          return sendJson(ex.res, 200, unfinishedUnaryResponse(plan, sent, meta));
        }
        if (!script.midJson) {
          const sent = Math.min(script.afterChunks ?? 1, plan.chunks.length);
          return void (await this.writeStream(ex, unfinishedStreamResponses(plan, sent, meta), pacing));
        }
        const sent = partial(script.afterChunks, 1);
        if (!(await this.writeStream(ex, unfinishedStreamResponses(plan, sent, meta), pacing, false))) return;
        if (!(await pause(sent > 0 ? pacing.chunkDelayMs : pacing.firstChunkDelayMs, ex.signal))) return;
        const bytes = Buffer.from(sseEvent(streamResponses(plan, meta)[sent]));
        this.writeHeadOnce(ex, 'text/event-stream');
        ex.res.end(bytes.subarray(0, Math.floor(bytes.length / 2)));
        return;
      }
      case 'hang': {
        const sent = partial(script.afterChunks, 0);
        if (stream && sent > 0) {
          if (!(await this.writeStream(ex, streamResponses(plan, meta).slice(0, sent), pacing, false))) return;
        }
        // No timer: the wait ends only when the connection closes or close() aborts it.
        return untilAborted(ex.signal);
      }
      default:
        return this.reply(ex, stream, plan, meta, pacing);
    }
  }

  private async reply(ex: Exchange, stream: boolean, plan: ReplyPlan, meta: { model: string; responseId: string }, pacing: Pacing): Promise<void> {
    if (stream) {
      await this.writeStream(ex, streamResponses(plan, meta), pacing);
      return;
    }
    // A unary answer arrives when the whole generation would have finished.
    if (!(await pause(totalDelay(pacing, plan.chunks.length), ex.signal))) return;
    ex.record.status = 200;
    sendJson(ex.res, 200, unaryResponse(plan, meta));
  }

  // Writes events with the pacing; headers go out with the first event, as a server that only knows its status
  // once the model starts would. Resolves false if the connection went away meanwhile.
  private async writeStream(ex: Exchange, events: unknown[], pacing: Pacing, end = true): Promise<boolean> {
    const sse = ex.url.searchParams.get('alt') === 'sse';
    for (const [i, event] of events.entries()) {
      if (!(await pause(i === 0 ? pacing.firstChunkDelayMs : pacing.chunkDelayMs, ex.signal))) return false;
      if (ex.res.destroyed) return false;
      if (sse) {
        this.writeHeadOnce(ex, 'text/event-stream');
        ex.res.write(sseEvent(event));
      } else {
        this.writeHeadOnce(ex, JSON_TYPE);
        ex.res.write((i === 0 ? jsonArrayStream.open : jsonArrayStream.separator) + jsonArrayStream.element(event));
      }
      ex.record.eventsSent += 1;
    }
    if (end) {
      if (events.length === 0 && !(await pause(pacing.firstChunkDelayMs, ex.signal))) return false;
      this.writeHeadOnce(ex, sse ? 'text/event-stream' : JSON_TYPE);
      ex.res.end(sse ? undefined : (events.length === 0 ? jsonArrayStream.open : '') + jsonArrayStream.close);
    }
    return true;
  }

  private writeHeadOnce(ex: Exchange, contentType: string): void {
    if (ex.res.headersSent) return;
    ex.record.status = 200;
    ex.res.writeHead(200, {
      'content-type': contentType,
      ...(contentType === 'text/event-stream' ? { 'content-disposition': 'attachment' } : {}),
      ...GOOGLE_HEADERS,
    });
  }

  private async cutUnary(ex: Exchange, body: string, pacing: Pacing): Promise<void> {
    if (!(await pause(pacing.firstChunkDelayMs, ex.signal))) return;
    const bytes = Buffer.from(body);
    ex.record.status = 200;
    ex.res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': bytes.length, ...GOOGLE_HEADERS });
    ex.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
    this.cut(ex);
  }

  // Ends the connection in the middle of the answer. end() first flushes what was written (a bare destroy()
  // could drop it), then the socket is destroyed, so the client sees a body that stops short.
  private cut(ex: Exchange): void {
    if (ex.record.outcome === 'pending') ex.record.outcome = 'server-cut';
    const socket = ex.req.socket;
    socket.end(() => socket.destroy());
  }

  private pacingFor(script: FakeGeminiScript): Required<Pick<Pacing, 'firstChunkDelayMs' | 'chunkDelayMs'>> & Pacing {
    const base = script.kind === 'slow' ? { ...this.settings, ...SLOW_DEFAULTS } : this.settings;
    const pick = <K extends keyof Pacing>(key: K): Pacing[K] => script[key] ?? base[key];
    return {
      firstChunkDelayMs: pick('firstChunkDelayMs') ?? 0,
      chunkDelayMs: pick('chunkDelayMs') ?? 0,
      chunks: pick('chunks'),
      chunkChars: pick('chunkChars'),
    };
  }

  private thoughtsFor(script: FakeGeminiScript, view: GenerateRequestView): number {
    if ('thoughtsTokenCount' in script && script.thoughtsTokenCount !== undefined) return script.thoughtsTokenCount;
    // thinkingBudget 0 switches thinking off on a real model, so the default must not bill any.
    if (view.body.generationConfig?.thinkingConfig?.thinkingBudget === 0) return 0;
    const setting = this.settings.thoughtsTokenCount;
    return Math.max(0, Math.floor((typeof setting === 'function' ? setting(view) : setting) ?? 0));
  }

  private nextResponseId(): string {
    // Deterministic per fake instance and shaped like the real ones: 16 bytes -> 22 base64url characters.
    return Buffer.from(`fg${String(++this.responseSeq).padStart(14, '0')}`).toString('base64url');
  }
}

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const server = createServer({ keepAliveTimeout: 5_000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return new FakeGeminiServer(server, options);
}

// ---- helpers -----------------------------------------------------------------------------------------------

function pickSettings(options: FakeGeminiOptions): FakeGeminiSettings {
  const { firstChunkDelayMs, chunkDelayMs, chunks, chunkChars, thoughtsTokenCount, reply } = options;
  return { firstChunkDelayMs, chunkDelayMs, chunks, chunkChars, thoughtsTokenCount, reply };
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = JSON_TYPE): void {
  // Google pretty-prints its JSON answers; SDKs parse either way.
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...GOOGLE_HEADERS });
  res.end(text);
}

// Resolves true after `ms`, or false as soon as `signal` aborts (clearing the timer).
async function pause(ms: number | undefined, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (!ms || ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

const totalDelay = (pacing: Pacing, chunks: number): number =>
  (pacing.firstChunkDelayMs ?? 0) + (pacing.chunkDelayMs ?? 0) * Math.max(0, chunks - 1);

const positiveInt = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;

const asObject = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // discard
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest('Request payload size exceeds the limit.');
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
