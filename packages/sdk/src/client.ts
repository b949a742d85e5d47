import createFetchClient, { type Client } from 'openapi-fetch';
import { GeminiChatError, unwrap } from './errors.js';
import { sleep, streamReplyEvents, type ReplyEvent, type StreamReplyOptions, type ThoughtEvent } from './reply-stream.js';
import type { components, operations, paths } from './schema.js';
import { createSession, type FetchLike } from './session.js';
import { memoryTokenStore, type TokenPair, type TokenStore } from './token-store.js';

/** Named wire types: `Schemas['Chatroom']`, `Schemas['Problem']`, ... */
export type Schemas = components['schemas'];
/** The JSON body an operation takes, by operationId: `RequestBody<'createChatroom'>`. */
export type RequestBody<Op extends keyof operations> =
  NonNullable<operations[Op]['requestBody']> extends { content: { 'application/json': infer Body } } ? Body : never;
/** The query parameters an operation takes, by operationId: `QueryParams<'listMessages'>`. */
export type QueryParams<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;

export interface ClientOptions {
  /** Where the API is: `https://api.example.com` (or `/api` in a browser on the same origin). */
  baseUrl: string;
  /** Defaults to `globalThis.fetch`. Pass a wrapper to add logging, timeouts or a custom agent. */
  fetch?: FetchLike;
  /** Where tokens live between calls. Defaults to memory. */
  tokenStore?: TokenStore;
  /**
   * An API key (`gck_…`, from `createApiKey`) in place of signing in, for server-side scripts: sent as
   * `Authorization: Bearer <apiKey>` on every call that needs credentials, never refreshed. Keys work on
   * chatroom, message, file and model calls; account, billing and key management answer 403 `API_KEY_NOT_ALLOWED`.
   */
  apiKey?: string;
  /** Sent with every request (e.g. `{ 'x-request-id': ... }`). */
  headers?: Record<string, string>;
}

export interface SendOptions {
  /**
   * `Idempotency-Key` header: a retry with the same key returns the original result, never a second message or
   * quota charge. `true` generates a UUID. With a key, the SDK itself retries network failures, 502/503/504 and
   * `409 IDEMPOTENCY_KEY_IN_USE` (see `retries`); without one it never retries a send.
   */
  idempotencyKey?: string | true;
  /** `Prefer: wait=N` (N ≤ 60): the call resolves when the reply is final or after N seconds (then still pending). */
  wait?: number;
  /** How many times an idempotent send is retried (default 2). */
  retries?: number;
  signal?: AbortSignal;
}

export interface SendMessageOptions extends SendOptions {
  /**
   * Where the prompt goes in the chatroom's tree. Omitted: it continues the current branch (the chatroom's
   * `currentMessageId`). A reply id: a new branch after that reply. `null`: a new first prompt.
   */
  parentId?: string | null;
  /** Ids of files from `uploadFile` sent with the prompt, in order (at most 10, each once). */
  attachments?: NonNullable<RequestBody<'sendMessage'>['attachments']>;
}

export interface EditPromptOptions extends SendOptions {
  /** The files of the new prompt. Omitted: the edited prompt's own files that still exist; `[]`: none. */
  attachments?: NonNullable<RequestBody<'sendMessage'>['attachments']>;
}

/** What `uploadFile` takes: a `File` (its name and type are used), any other `Blob`, or raw bytes. */
export type UploadData = Blob | Uint8Array | ArrayBuffer;

export interface UploadFileOptions {
  /** The file name stored with it. Default: a `File`'s own name, else `"file"`. */
  name?: string;
  /**
   * The type the upload claims (e.g. `image/png`). Default: a `Blob`'s own type, else none; `''` claims none even
   * for a `Blob` that has one. The server detects the type from the bytes either way; a claim that contradicts them
   * is refused (415 `FILE_TYPE_MISMATCH`), as is a file name whose extension does.
   */
  type?: string;
  signal?: AbortSignal;
}

/** Options of `listFiles`: page size and cursor. */
export type ListFilesOptions = QueryParams<'listFiles'>;

export interface DownloadFileOptions {
  /**
   * Part of the file: `{ start, end? }` (inclusive byte offsets) or a `Range` header value such as `bytes=-500`
   * (the last 500 bytes). The response is then 206 with `Content-Range`.
   */
  range?: { start: number; end?: number } | string;
  signal?: AbortSignal;
}

/** Options of `listMessages`: which branch (`leafId`, default the current one) and which page. */
export type ListMessagesOptions = QueryParams<'listMessages'>;
export type ListSharesOptions = QueryParams<'listShares'>;

export interface GeminiChatClient {
  /** The typed openapi-fetch client for every operation: `api.GET('/chatroom/{id}', { params: { path: { id } } })`. */
  readonly api: Client<paths>;
  /** Where the tokens are kept. */
  readonly tokens: TokenStore;

  // Auth and account. Calls that return tokens (verifyOtp, login, changePassword, refresh) store them.
  signup(body: RequestBody<'signup'>): Promise<Schemas['SignupResult']>;
  sendOtp(body: RequestBody<'sendOtp'>): Promise<Schemas['OtpChallenge']>;
  verifyOtp(body: RequestBody<'verifyOtp'>): Promise<Schemas['Tokens']>;
  login(body: RequestBody<'login'>): Promise<Schemas['Tokens']>;
  /** Rotates the stored tokens now (the client also does this by itself on a 401). */
  refresh(): Promise<TokenPair>;
  /** Revokes the stored refresh token and clears the store. */
  logout(): Promise<void>;
  forgotPassword(body: RequestBody<'forgotPassword'>): Promise<Schemas['OtpChallenge']>;
  resetPassword(body: RequestBody<'resetPassword'>): Promise<void>;
  changePassword(body: RequestBody<'changePassword'>): Promise<Schemas['Tokens']>;
  getMe(): Promise<Schemas['Me']>;
  updateMe(body: RequestBody<'updateMe'>): Promise<Schemas['Me']>;

  // Models
  /** The models the signed-in user's tier may use; `defaultModel` is the tier's default. */
  listModels(): Promise<Schemas['ModelList']>;

  // Chatrooms
  listChatrooms(query?: QueryParams<'listChatrooms'>): Promise<Schemas['ChatroomList']>;
  createChatroom(body?: RequestBody<'createChatroom'>): Promise<Schemas['Chatroom']>;
  getChatroom(chatroomId: string): Promise<Schemas['ChatroomDetail']>;
  updateChatroom(chatroomId: string, body: RequestBody<'updateChatroom'>): Promise<Schemas['Chatroom']>;
  deleteChatroom(chatroomId: string): Promise<void>;

  // Messages and replies
  /**
   * Sends a prompt: the result holds the stored prompt and the reply (queued, or final with `wait`). It continues
   * the current branch, or starts a new one after `options.parentId`; either way the new exchange becomes current.
   */
  sendMessage(chatroomId: string, content: string, options?: SendMessageOptions): Promise<Schemas['SendMessageResult']>;
  /**
   * One branch, leaf first, each message followed by its parent: the current branch, or with `leafId` the branch
   * through that message (the newest leaf at or beneath it). Page with `cursor` (the previous page's `nextCursor`).
   */
  listMessages(chatroomId: string, options?: ListMessagesOptions): Promise<Schemas['MessageList']>;
  getMessage(chatroomId: string, messageId: string): Promise<Schemas['Message']>;
  /** The chatroom's newest reply, finished or not (check `status`). */
  getLatestReply(chatroomId: string): Promise<Schemas['Message']>;
  cancelReply(chatroomId: string, messageId: string): Promise<Schemas['Message']>;
  /**
   * A new reply to the prompt of `replyId` — any reply of the chatroom, not only the latest — as a sibling of it.
   * Charged like a prompt; the new reply becomes the current branch.
   */
  regenerate(chatroomId: string, replyId: string, options?: SendOptions): Promise<Schemas['SendMessageResult']>;
  /** The same as `regenerate` (its earlier name). */
  regenerateReply(chatroomId: string, messageId: string, options?: SendOptions): Promise<Schemas['SendMessageResult']>;

  // Branches
  /**
   * Edits a prompt: sends `newContent` as a new sibling of it (`parentId = prompt.parentId`), so the original and
   * its replies stay as the other branch. Pass the prompt message, or its id (then it is fetched first). The new
   * prompt carries the same files (those not deleted since) unless `options.attachments` says otherwise.
   */
  editPrompt(
    chatroomId: string,
    prompt: (Pick<Schemas['Message'], 'id' | 'parentId'> & Partial<Pick<Schemas['Message'], 'attachments'>>) | string,
    newContent: string,
    options?: EditPromptOptions,
  ): Promise<Schemas['SendMessageResult']>;
  /**
   * Shows another branch: `messageId` (e.g. a sibling's `siblings.previousId` / `nextId`) and the newest leaf at or
   * beneath it become the chatroom's `currentMessageId`.
   */
  switchBranch(chatroomId: string, messageId: string): Promise<Schemas['Chatroom']>;
  /** A new chatroom holding a copy of the branch from the first prompt up to `messageId` (a finished reply). */
  forkChatroom(chatroomId: string, messageId: string): Promise<Schemas['ChatroomDetail']>;
  /**
   * The reply as it is written: `for await (const event of client.streamReply(roomId, replyId))`. Reconnects
   * with `Last-Event-ID` after a network failure (no gap, no duplicate) and ends after `done` or `error`.
   */
  streamReply(chatroomId: string, messageId: string, options?: StreamReplyOptions & { thoughts?: false }): AsyncGenerator<ReplyEvent, void, undefined>;
  /** With `thoughts: true`, the model's thought summaries too (`thought` events, when the chatroom shows them). */
  streamReply(chatroomId: string, messageId: string, options: StreamReplyOptions): AsyncGenerator<ReplyEvent | ThoughtEvent, void, undefined>;

  // Files
  /**
   * Uploads a file to attach to prompts (`POST /files`, one multipart part). Its type is detected by the server
   * from the bytes: images (PNG, JPEG, WebP, HEIC/HEIF), PDF, plain text/Markdown/CSV, audio (MP3, WAV, OGG, FLAC,
   * AAC); anything else is refused with 415 `UNSUPPORTED_MEDIA_TYPE`.
   */
  uploadFile(data: UploadData, options?: UploadFileOptions): Promise<Schemas['File']>;
  /** The user's files, newest first (deleted ones left out). */
  listFiles(query?: ListFilesOptions): Promise<Schemas['FileList']>;
  getFile(fileId: string): Promise<Schemas['File']>;
  /** Deletes a file: its bytes are gone; messages that carried it list it with `deleted: true`. */
  deleteFile(fileId: string): Promise<void>;
  /**
   * A file's bytes: the `Response` (200, or 206 with a `range`), its body not yet read. Read it as suits the size:
   * `await res.blob()`, `await res.arrayBuffer()`, or stream `res.body`. `Content-Type` is the detected type,
   * `Content-Disposition` carries the name, `ETag` the SHA-256. Errors reject with a `GeminiChatError`.
   */
  downloadFile(fileId: string, options?: DownloadFileOptions): Promise<Response>;

  // Subscription
  /** Starts a Stripe Checkout for Pro: send the user to `checkoutUrl`. */
  subscribePro(): Promise<Schemas['Checkout']>;
  getSubscriptionStatus(): Promise<Schemas['SubscriptionStatus']>;
  /** A Stripe Billing Portal link to manage or cancel the plan. */
  createBillingPortalSession(): Promise<Schemas['BillingPortalSession']>;

  // Export and import
  /**
   * A chatroom as a file: `json` (the default) holds every branch in the versioned `gemini-chat.chatroom` format that
   * `importChatrooms` reads back; `markdown` is the current branch as text, to read.
   */
  exportChatroom(chatroomId: string, format?: 'json'): Promise<Schemas['ChatroomExport']>;
  exportChatroom(chatroomId: string, format: 'markdown'): Promise<string>;
  /**
   * Creates chatrooms from a chatroom export or a ChatGPT `conversations.json` (all or none). `idempotencyKey`
   * (`true`: a fresh one) makes a retry return the first result instead of importing twice.
   */
  importChatrooms(body: RequestBody<'importChatrooms'>, options?: { idempotencyKey?: string | true }): Promise<Schemas['ImportResult']>;
  // Search
  /**
   * The user's chatroom titles and messages matching `q` (`"phrase"`, `OR`, `-word`), best first; pass
   * `nextCursor` back as `cursor` with the same `q` for the next page. `snippet` is plain text: escape it before
   * putting it in HTML; `highlights` are JavaScript string indexes into it.
   */
  search(q: string, options?: Omit<QueryParams<'search'>, 'q'>): Promise<Schemas['SearchResults']>;
  // API keys (these calls need a signed-in user, not a key)
  /** A new key: `key` is in this result only, so keep it now. At most 10 at once (409 `API_KEY_LIMIT_REACHED`). */
  createApiKey(body: RequestBody<'createApiKey'>): Promise<Schemas['CreatedApiKey']>;
  /** The user's keys (prefix, name, dates), never the keys themselves. */
  listApiKeys(): Promise<Schemas['ApiKeyList']>;
  /** Revokes a key: refused on every API instance at once. */
  revokeApiKey(apiKeyId: string): Promise<void>;
  // Account export and deletion
  /** Everything the account holds, as one document. */
  exportAccount(): Promise<Schemas['AccountExport']>;
  /**
   * Deletes the account with a code from `sendOtp({ mobileNumber, purpose: 'delete_account' })`, then clears the
   * stored tokens (they no longer work).
   */
  deleteAccount(otp: string): Promise<void>;
  // Shares
  /**
   * A read-only link to a copy of the chatroom's current branch as it is now (finished messages only; later sends,
   * edits and branch switches do not change it). Anyone with `url` can read it without signing in.
   */
  createShare(chatroomId: string): Promise<Schemas['Share']>;
  /** The user's share links, newest first. */
  listShares(query?: ListSharesOptions): Promise<Schemas['ShareList']>;
  /** Revokes a share link: it answers 404 from then on. */
  deleteShare(shareId: string): Promise<void>;
  /** Reads a share as anyone with its link does (no sign-in needed): `{ title, messages, createdAt }`. */
  getShare(shareId: string): Promise<Schemas['PublicShare']>;
}

// Responses that carry a new token pair: stored whichever way the call was made (helper or `api`).
const ISSUES_TOKENS = new Set(['/auth/verify-otp', '/auth/login', '/auth/change-password', '/auth/refresh']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** A client for the Gemini chat API. Runs wherever `fetch`, web streams and `crypto.randomUUID` exist. */
export function createClient(options: ClientOptions): GeminiChatClient {
  const { baseUrl } = options;
  const tokens = options.tokenStore ?? memoryTokenStore();
  // Looked up per call, so a fetch patched later (tests, polyfills) is used, and never called with a foreign `this`.
  const send: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
  const headers = new Headers(options.headers);
  const session = createSession({ baseUrl, fetch: send, tokens, headers, ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}) });
  const api = createFetchClient<paths>({ baseUrl, fetch: session.fetch, headers: options.headers });

  const loggingOut = new WeakMap<Request, string>();
  api.use({
    async onRequest({ schemaPath, request }) {
      if (schemaPath === '/auth/logout') {
        const body = (await request.clone().json().catch(() => ({}))) as { refreshToken?: string };
        if (body.refreshToken) loggingOut.set(request, body.refreshToken);
      }
      return undefined;
    },
    async onResponse({ schemaPath, request, response }) {
      if (!response.ok) return undefined;
      if (ISSUES_TOKENS.has(schemaPath)) {
        const body = (await response.clone().json()) as Schemas['Tokens'];
        await tokens.set({ accessToken: body.accessToken, refreshToken: body.refreshToken });
      } else if (schemaPath === '/auth/logout') {
        if ((await tokens.get())?.refreshToken === loggingOut.get(request)) await tokens.set(null);
      }
      return undefined;
    },
  });

  const room = (id: string) => ({ params: { path: { id } } });
  const reply = (id: string, messageId: string) => ({ params: { path: { id, messageId } } });

  /** Headers of a send or regenerate, and its retry loop (only with an idempotency key). */
  async function submit<T>(opts: SendOptions, call: (init: { header: SendHeaders; signal?: AbortSignal }) => Promise<T>): Promise<T> {
    const key = opts.idempotencyKey === true ? globalThis.crypto.randomUUID() : opts.idempotencyKey;
    const header: SendHeaders = {};
    if (key) header['idempotency-key'] = key;
    if (opts.wait !== undefined && opts.wait > 0) header.prefer = `wait=${Math.floor(opts.wait)}`;
    const retries = key ? (opts.retries ?? 2) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call({ header, ...(opts.signal ? { signal: opts.signal } : {}) });
      } catch (err) {
        if (attempt >= retries || opts.signal?.aborted || !retryableSend(err)) throw err;
        const retryAfter = err instanceof GeminiChatError ? (err.retryAfterSeconds ?? 0) * 1000 : 0;
        await sleep(Math.max(200 * 2 ** attempt, Math.min(retryAfter, 10_000)), opts.signal);
      }
    }
  }

  function sendMessage(id: string, content: string, opts: SendMessageOptions = {}) {
    const body: RequestBody<'sendMessage'> = { content };
    if (opts.parentId !== undefined) body.parentId = opts.parentId;
    if (opts.attachments?.length) body.attachments = opts.attachments;
    return submit(opts, ({ header, signal }) => unwrap(api.POST('/chatroom/{id}/message', { params: { path: { id }, header }, body, signal })));
  }

  function regenerate(id: string, messageId: string, opts: SendOptions = {}) {
    return submit(opts, ({ header, signal }) =>
      unwrap(api.POST('/chatroom/{id}/messages/{messageId}/regenerate', { params: { path: { id, messageId }, header }, signal })),
    );
  }

  return {
    api,
    tokens,

    signup: (body) => unwrap(api.POST('/auth/signup', { body })),
    sendOtp: (body) => unwrap(api.POST('/auth/send-otp', { body })),
    verifyOtp: (body) => unwrap(api.POST('/auth/verify-otp', { body })),
    login: (body) => unwrap(api.POST('/auth/login', { body })),
    refresh: () => session.refresh(),
    async logout() {
      const current = await tokens.get();
      if (!current) return;
      try {
        await unwrap(api.POST('/auth/logout', { body: { refreshToken: current.refreshToken } }));
      } catch (err) {
        // An already invalid token means already signed out; anything else is worth reporting.
        if (!(err instanceof GeminiChatError && err.status < 500 && err.status !== 429)) throw err;
      } finally {
        await tokens.set(null);
      }
    },
    forgotPassword: (body) => unwrap(api.POST('/auth/forgot-password', { body })),
    async resetPassword(body) {
      await unwrap(api.POST('/auth/reset-password', { body }));
    },
    changePassword: (body) => unwrap(api.POST('/auth/change-password', { body })),
    getMe: () => unwrap(api.GET('/user/me')),
    updateMe: (body) => unwrap(api.PATCH('/user/me', { body })),
    listModels: () => unwrap(api.GET('/models')),

    listChatrooms: (query = {}) => unwrap(api.GET('/chatroom', { params: { query } })),
    createChatroom: (body = {}) => unwrap(api.POST('/chatroom', { body })),
    getChatroom: (id) => unwrap(api.GET('/chatroom/{id}', room(id))),
    updateChatroom: (id, body) => unwrap(api.PATCH('/chatroom/{id}', { ...room(id), body })),
    async deleteChatroom(id) {
      await unwrap(api.DELETE('/chatroom/{id}', room(id)));
    },

    sendMessage,
    listMessages: (id, query = {}) => unwrap(api.GET('/chatroom/{id}/messages', { params: { path: { id }, query } })),
    getMessage: (id, messageId) => unwrap(api.GET('/chatroom/{id}/messages/{messageId}', reply(id, messageId))),
    getLatestReply: (id) => unwrap(api.GET('/chatroom/{id}/latest', room(id))),
    cancelReply: (id, messageId) => unwrap(api.POST('/chatroom/{id}/messages/{messageId}/cancel', reply(id, messageId))),
    regenerate,
    regenerateReply: regenerate,
    async editPrompt(id, prompt, newContent, opts = {}) {
      const original = typeof prompt === 'string' ? await unwrap(api.GET('/chatroom/{id}/messages/{messageId}', reply(id, prompt))) : prompt;
      // A deleted file cannot be sent again (404 FILE_NOT_FOUND): the edit keeps the files that still exist.
      const attachments = opts.attachments ?? original.attachments?.filter((file) => !file.deleted).map((file) => file.id) ?? [];
      return sendMessage(id, newContent, { ...opts, parentId: original.parentId, attachments });
    },
    switchBranch: (id, messageId) => unwrap(api.PATCH('/chatroom/{id}', { ...room(id), body: { currentMessageId: messageId } })),
    forkChatroom: (id, messageId) => unwrap(api.POST('/chatroom/{id}/fork', { ...room(id), body: { messageId } })),
    // One implementation for both overloads: without `thoughts: true` it yields no ThoughtEvent.
    streamReply: ((id: string, messageId: string, opts?: StreamReplyOptions) =>
      streamReplyEvents(
        { baseUrl, fetch: session.fetch, headers },
        `/chatroom/${encodeURIComponent(id)}/messages/${encodeURIComponent(messageId)}/stream`,
        opts,
      )) as GeminiChatClient['streamReply'],

    uploadFile(data, opts = {}) {
      const form = new FormData();
      form.set('file', asBlob(data, opts.type), opts.name || (isFile(data) && data.name) || 'file');
      // The contract types the binary part as a string; openapi-fetch passes a FormData through untouched and lets
      // fetch write the multipart body and its boundary. A FormData of Blobs can be sent again, so the one retry
      // after a token refresh works for uploads too.
      return unwrap(api.POST('/files', { body: form as unknown as { file: string }, ...(opts.signal ? { signal: opts.signal } : {}) }));
    },
    listFiles: (query = {}) => unwrap(api.GET('/files', { params: { query } })),
    getFile: (id) => unwrap(api.GET('/files/{id}', room(id))),
    async deleteFile(id) {
      await unwrap(api.DELETE('/files/{id}', room(id)));
    },
    async downloadFile(id, opts = {}) {
      const range = typeof opts.range === 'object' ? `bytes=${opts.range.start}-${opts.range.end ?? ''}` : opts.range;
      const { response, error } = await api.GET('/files/{id}/content', {
        params: { path: { id }, ...(range ? { header: { range } } : {}) },
        parseAs: 'stream', // the body is left to the caller
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      if (!response.ok) throw new GeminiChatError(response.status, error, response.headers);
      return response;
    },

    subscribePro: () => unwrap(api.POST('/subscribe/pro')),
    getSubscriptionStatus: () => unwrap(api.GET('/subscription/status')),
    createBillingPortalSession: () => unwrap(api.POST('/subscription/portal')),

    exportChatroom: ((id: string, format: 'json' | 'markdown' = 'json') =>
      unwrap(
        api.GET('/chatroom/{id}/export', { params: { path: { id }, query: { format } }, parseAs: format === 'markdown' ? 'text' : 'json' }),
      )) as GeminiChatClient['exportChatroom'],
    importChatrooms(body, opts = {}) {
      const key = opts.idempotencyKey === true ? globalThis.crypto.randomUUID() : opts.idempotencyKey;
      return unwrap(api.POST('/chatroom/import', { body, ...(key ? { params: { header: { 'idempotency-key': key } } } : {}) }));
    },
    search: (q, options = {}) => unwrap(api.GET('/search', { params: { query: { ...options, q } } })),
    // API keys
    createApiKey: (body) => unwrap(api.POST('/user/api-keys', { body })),
    listApiKeys: () => unwrap(api.GET('/user/api-keys')),
    async revokeApiKey(id) {
      await unwrap(api.DELETE('/user/api-keys/{id}', { params: { path: { id } } }));
    },
    // Account export and deletion
    exportAccount: () => unwrap(api.GET('/user/me/export')),
    async deleteAccount(otp) {
      await unwrap(api.DELETE('/user/me', { body: { otp } }));
      await tokens.set(null);
    },
    createShare: (id) => unwrap(api.POST('/chatroom/{id}/shares', room(id))),
    listShares: (query = {}) => unwrap(api.GET('/shares', { params: { query } })),
    async deleteShare(id) {
      await unwrap(api.DELETE('/shares/{id}', room(id)));
    },
    // Asks for JSON whatever default headers the client was given (a browser-like Accept would get the HTML page),
    // so the answer is the JSON member of the contract's two media types.
    getShare: (shareId) =>
      unwrap(api.GET('/s/{shareId}', { params: { path: { shareId } }, headers: { accept: 'application/json' } })) as Promise<Schemas['PublicShare']>,
  };
}

const isFile = (data: UploadData): data is File => typeof File !== 'undefined' && data instanceof File;

/** The upload as a Blob of the claimed type (none: the server decides from the bytes alone). */
function asBlob(data: UploadData, type: string | undefined): Blob {
  if (data instanceof Blob) return type === undefined || type === data.type ? data : new Blob([data], { type });
  // Blob parts must not be views of a SharedArrayBuffer: such bytes are copied first.
  const bytes = data instanceof ArrayBuffer ? data : data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : data.slice();
  return new Blob([bytes], type === undefined ? {} : { type });
}

type SendHeaders = { 'idempotency-key'?: string; prefer?: string };

/** Safe to repeat only because the request carries an idempotency key. */
function retryableSend(err: unknown): boolean {
  if (err instanceof GeminiChatError) return RETRYABLE_STATUS.has(err.status) || err.code === 'IDEMPOTENCY_KEY_IN_USE';
  return err instanceof TypeError; // what fetch throws when the connection fails or is cut
}
