// A fake of the Gemini API (generativelanguage.googleapis.com) on node:http, for tests and offline dev.
// It speaks Gemini's REST wire format (generateContent, streamGenerateContent with SSE, countTokens, the model
// listing, Google's RPC error bodies); tests drive it through the real SDK. It also serves the Files API
// (files.routes.ts: resumable upload, get, list, delete, 48 h expiry) and reads media parts in prompts
// (received-files.ts: inlineData / fileData, counted by media-tokens.ts, named at the start of the default reply).
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

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens } from './count-tokens.routes.js';
import { FileStore, type FakeFile } from './file-store.js';
import { deleteFile, getFile, listFiles, startUpload, uploadChunk } from './files.routes.js';
import { handleControlRequest, CONTROL_PREFIX } from './control.routes.js';
import { generate, type GenerationContext } from './generate.routes.js';
import { googleError, invalidApiKeyError, missingApiKeyError, unknownRouteError } from './gemini-errors.js';
import { BadRequest, drain, readJsonBody, sendError, sendJson, type Exchange } from './http-exchange.js';
import { bareModelId, buildCatalog, type FakeModel } from './model-catalog.js';
import { getModel, listModels } from './models.routes.js';
import { newRecord, recordClosed, recordFinished, type RecordedRequest, type RequestAction } from './request-recording.js';
import { ScriptBook } from './script-book.js';
import type { FakeGeminiRule, FakeGeminiScript, GenerateRequestView, Pacing } from './scripting.js';
import type { ApiVersion, GoogleRpcErrorBody } from './wire.types.js';

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
  // The models listed by GET /{version}/models and served (default: DEFAULT_MODEL_CATALOG). An id takes its
  // default catalog entry, or a thinking Flash-like entry if the default catalog does not have it.
  models?: readonly (string | FakeModel)[];
  // Generation on an id not in `models` answers Google's 404 NOT_FOUND, as Google does (default true). With
  // false, any id is served as a thinking Flash-like model.
  rejectUnknownModels?: boolean;
  // Serve the /__fake/* control surface (default true).
  controlRoutes?: boolean;
  // How long an uploaded file lives before get and generation answer 403 (default 48 hours, as Google keeps them).
  fileTtlMs?: number;
}

export interface FakeGemini {
  // Base URL for `new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } })`, e.g. http://127.0.0.1:53211.
  readonly url: string;
  readonly port: number;
  // Every Gemini request received, in order (live: entries update as their answers progress).
  readonly requests: readonly RecordedRequest[];
  // Every file uploaded through the Files API and not deleted, expired ones included (`expired: true`).
  readonly files: readonly FakeFile[];
  // Makes a file (`files/<id>` or its id) expire now, as if its time were up. False when there is no such file.
  expireFile(name: string): boolean;
  // The next `count` uploads finish in state PROCESSING and turn ACTIVE at their next files.get.
  processNextUploads(count: number): void;
  // Scripts for the next generation requests, in order; each serves `times` requests (default 1).
  enqueue(...scripts: FakeGeminiScript[]): void;
  // A standing script for generation requests that match; checked after the queue, in the order added.
  addRule(rule: FakeGeminiRule): void;
  // Changes the default pacing / thinking for later requests (reset() restores the start options).
  configure(settings: FakeGeminiSettings): void;
  // Forgets requests, queue, rules, marker counters, uploaded files and configure() changes. In-flight answers go on.
  reset(): void;
  // Resolves once no request is being answered (e.g. after an abort, to read `clientAborted`).
  settled(): Promise<void>;
  // Stops listening and ends every connection at once, hung ones included; cancels all pending timers.
  close(): Promise<void>;
}

const ROUTE_METHOD = /^\/(v1|v1beta)\/models\/([^/:]+):([A-Za-z]+)$/;
const ROUTE_MODELS = /^\/(v1|v1beta)\/models\/?$/;
const ROUTE_MODEL = /^\/(v1|v1beta)\/models\/([^/:]+)$/;
const ROUTE_UPLOAD = /^\/upload\/(v1|v1beta)\/files\/?$/;
const ROUTE_FILES = /^\/(v1|v1beta)\/files\/?$/;
const ROUTE_FILE = /^\/(v1|v1beta)\/files\/([^/:]+)$/;

export class FakeGeminiServer implements FakeGemini {
  readonly url: string;
  readonly port: number;
  private readonly records: RecordedRequest[] = [];
  private readonly book = new ScriptBook();
  private readonly inFlight = new Map<Exchange, AbortController>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly catalog: readonly FakeModel[];
  private readonly fileStore: FileStore;
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
    this.catalog = buildCatalog(options.models);
    this.fileStore = new FileStore(options.fileTtlMs);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  get requests(): readonly RecordedRequest[] {
    return this.records;
  }

  get files(): readonly FakeFile[] {
    return this.fileStore.views();
  }

  expireFile(name: string): boolean {
    return this.fileStore.expire(name.replace(/^files\//, ''));
  }

  processNextUploads(count: number): void {
    this.fileStore.processNextUploads(count);
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
    this.fileStore.reset();
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

  // Records the request and tracks it until its connection closes, so settled() and close() know what is open.
  private begin(req: IncomingMessage, res: ServerResponse, url: URL): Exchange {
    const record = newRecord(++this.seq, req, url);
    this.records.push(record);
    const controller = new AbortController();
    const exchange: Exchange = { req, res, url, record, signal: controller.signal };
    this.inFlight.set(exchange, controller);
    res.on('finish', () => recordFinished(record));
    res.on('close', () => {
      recordClosed(record, this.shuttingDown);
      controller.abort();
      this.inFlight.delete(exchange);
      if (this.inFlight.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    });
    return exchange;
  }

  private async route(ex: Exchange): Promise<void> {
    const { record } = ex;
    const route = matchRoute(record.method, record.path, record.query);
    record.apiVersion = route.apiVersion;
    record.model = route.encodedModel === undefined ? undefined : bareModelId(decodeURIComponent(route.encodedModel));
    record.action = route.action;
    // Upload chunks are raw bytes, read by their route once the key is checked.
    const rawBody = record.action === 'files.uploadChunk';
    if (record.method === 'POST' && !rawBody) record.body = await readJsonBody(ex.req);
    else if (!rawBody) await drain(ex.req);
    if (record.action === 'unknown') return sendError(ex, unknownRouteError());

    const authError = this.checkApiKey(ex);
    if (authError) {
      if (rawBody) await drain(ex.req);
      return sendError(ex, authError);
    }

    switch (record.action) {
      case 'files.upload':
        return startUpload(ex, this.fileStore);
      case 'files.uploadChunk':
        return uploadChunk(ex, this.fileStore, route.apiVersion ?? 'v1beta');
      case 'files.get':
        return getFile(ex, this.fileStore, route.fileId ?? '');
      case 'files.list':
        return listFiles(ex, this.fileStore);
      case 'files.delete':
        return deleteFile(ex, this.fileStore, route.fileId ?? '');
      case 'listModels':
        return listModels(ex, this.catalog);
      case 'getModel':
        return getModel(ex, this.catalog);
      case 'countTokens':
        return countTokens(ex, this.fileStore);
      default:
        return generate(ex, record.action === 'streamGenerateContent', this.generationContext());
    }
  }

  private checkApiKey(ex: Exchange): GoogleRpcErrorBody | undefined {
    const header = ex.req.headers['x-goog-api-key'];
    const key = (Array.isArray(header) ? header[0] : header) ?? ex.url.searchParams.get('key') ?? '';
    if (key === '') return missingApiKeyError();
    if (this.options.apiKey !== undefined && key !== this.options.apiKey) return invalidApiKeyError();
    return undefined;
  }

  private generationContext(): GenerationContext {
    return {
      settings: this.settings,
      catalog: this.catalog,
      rejectUnknownModels: this.options.rejectUnknownModels ?? true,
      files: this.fileStore,
      chooseScript: (view) => this.book.next(view),
      nextResponseId: () => this.nextResponseId(),
    };
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

function pickSettings(options: FakeGeminiOptions): FakeGeminiSettings {
  const { firstChunkDelayMs, chunkDelayMs, chunks, chunkChars, thoughtsTokenCount, reply } = options;
  return { firstChunkDelayMs, chunkDelayMs, chunks, chunkChars, thoughtsTokenCount, reply };
}

interface RouteMatch {
  apiVersion: ApiVersion | undefined;
  encodedModel: string | undefined;
  action: RequestAction;
  // Files API calls on one file: its id.
  fileId?: string | undefined;
}

// Which Gemini call a method and path make: the API version and the (still URI-encoded) model from the path,
// and the action (unknown when nothing matches, including a known path with the wrong method).
function matchRoute(method: string, path: string, query: Record<string, string>): RouteMatch {
  const files = matchFilesRoute(method, path, query);
  if (files) return files;
  const call = ROUTE_METHOD.exec(path);
  const list = ROUTE_MODELS.exec(path);
  const get = ROUTE_MODEL.exec(path);
  const match = call ?? list ?? get;
  const name = call?.[3];
  let action: RequestAction = 'unknown';
  if (call && method === 'POST' && (name === 'generateContent' || name === 'streamGenerateContent' || name === 'countTokens')) {
    action = name;
  } else if (list && method === 'GET') {
    action = 'listModels';
  } else if (get && method === 'GET') {
    action = 'getModel';
  }
  return { apiVersion: match?.[1] as ApiVersion | undefined, encodedModel: match?.[2], action };
}

// An upload URL is the start URL plus an upload_id.
function matchFilesRoute(method: string, path: string, query: Record<string, string>): RouteMatch | undefined {
  const upload = ROUTE_UPLOAD.exec(path);
  if (upload) {
    const action: RequestAction = method !== 'POST' ? 'unknown' : query.upload_id !== undefined ? 'files.uploadChunk' : 'files.upload';
    return { apiVersion: upload[1] as ApiVersion, encodedModel: undefined, action };
  }
  const list = ROUTE_FILES.exec(path);
  if (list) return { apiVersion: list[1] as ApiVersion, encodedModel: undefined, action: method === 'GET' ? 'files.list' : 'unknown' };
  const one = ROUTE_FILE.exec(path);
  if (one) {
    const action: RequestAction = method === 'GET' ? 'files.get' : method === 'DELETE' ? 'files.delete' : 'unknown';
    return { apiVersion: one[1] as ApiVersion, encodedModel: undefined, action, fileId: one[2] };
  }
  return undefined;
}
