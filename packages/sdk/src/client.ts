import createFetchClient, { type Client } from 'openapi-fetch';
import type { APIPromise } from './api-promise.js';
import type { GeminiChatError } from './errors.js';
import type { PagePromise } from './pagination.js';
import type { ReplyEvent, StreamReplyOptions, ThoughtEvent } from './reply-stream.js';
import type { IdempotentRequestOptions } from './request.js';
import {
  createResources,
  type DownloadParams,
  type Message,
  type QueryParams,
  type RequestBody,
  type Resources,
  type Schemas,
  type SendResult,
  type UploadData,
  type UploadParams,
} from './resources.js';
import type { paths } from './schema.js';
import { createSession, type FetchLike } from './session.js';
import { memoryTokenStore, type TokenPair, type TokenStore } from './token-store.js';

export interface ClientOptions {
  /** Where the API is: `https://api.example.com` (or `/api` in a browser on the same origin). */
  baseUrl: string;
  /** Defaults to `globalThis.fetch`. Pass a wrapper to add logging or a custom agent. */
  fetch?: FetchLike;
  /** Where tokens live between calls. Defaults to memory. */
  tokenStore?: TokenStore;
  /**
   * An API key (`gck_…`, from `apiKeys.create`) in place of signing in, for server-side scripts: sent as
   * `Authorization: Bearer <apiKey>` on every call that needs credentials, never refreshed.
   */
  apiKey?: string;
  /** Sent with every request (e.g. `{ 'x-client': 'cli/1.4' }`). */
  headers?: Record<string, string>;
  /**
   * Milliseconds an attempt may take before it is aborted as an `APITimeoutError` (default 60 000). For a reply
   * stream it is the longest silence before it reconnects, not a limit on the whole reply.
   */
  timeout?: number;
  /** Retries of a call that is safe to repeat (default 2; 0 turns them off). See the README's "Retries". */
  maxRetries?: number;
  /**
   * Called when the session ends because a refresh was refused (`REFRESH_TOKEN_REUSED`, `REFRESH_TOKEN_INVALID`,
   * `SESSION_REVOKED`...): once per refused refresh, however many calls were waiting for it. The store is already
   * cleared; send the user to sign in.
   */
  onSessionExpired?: (error: GeminiChatError) => void | Promise<void>;
}

/** The 0.1 names, kept so code written for them still runs. Each is the namespace call it names. */
export interface DeprecatedMethods {
  /** @deprecated Use `client.auth.signup`. */
  signup(body: RequestBody<'signup'>): APIPromise<Schemas['SignupResult']>;
  /** @deprecated Use `client.auth.sendOtp`. */
  sendOtp(body: RequestBody<'sendOtp'>): APIPromise<Schemas['OtpChallenge']>;
  /** @deprecated Use `client.auth.verifyOtp`. */
  verifyOtp(body: RequestBody<'verifyOtp'>): APIPromise<Schemas['Tokens']>;
  /** @deprecated Use `client.auth.login`. */
  login(body: RequestBody<'login'>): APIPromise<Schemas['Tokens']>;
  /** @deprecated Use `client.auth.refresh`. */
  refresh(): Promise<TokenPair>;
  /** @deprecated Use `client.auth.logout`. */
  logout(): Promise<void>;
  /** @deprecated Use `client.auth.forgotPassword`. */
  forgotPassword(body: RequestBody<'forgotPassword'>): APIPromise<Schemas['OtpChallenge']>;
  /** @deprecated Use `client.auth.resetPassword`. */
  resetPassword(body: RequestBody<'resetPassword'>): APIPromise<void>;
  /** @deprecated Use `client.auth.changePassword`. */
  changePassword(body: RequestBody<'changePassword'>): APIPromise<Schemas['Tokens']>;
  /** @deprecated Use `client.user.get`. */
  getMe(): APIPromise<Schemas['Me']>;
  /** @deprecated Use `client.user.update`. */
  updateMe(body: RequestBody<'updateMe'>): APIPromise<Schemas['Me']>;
  /** @deprecated Use `client.models.list`. */
  listModels(): ReturnType<Resources['models']['list']>;
  /** @deprecated Use `client.chatrooms.list`. */
  listChatrooms(query?: QueryParams<'listChatrooms'>): ReturnType<Resources['chatrooms']['list']>;
  /** @deprecated Use `client.chatrooms.create`. */
  createChatroom(body?: RequestBody<'createChatroom'>): APIPromise<Schemas['Chatroom']>;
  /** @deprecated Use `client.chatrooms.get`. */
  getChatroom(chatroomId: string): APIPromise<Schemas['ChatroomDetail']>;
  /** @deprecated Use `client.chatrooms.update`. */
  updateChatroom(chatroomId: string, body: RequestBody<'updateChatroom'>): APIPromise<Schemas['Chatroom']>;
  /** @deprecated Use `client.chatrooms.delete`. */
  deleteChatroom(chatroomId: string): APIPromise<void>;
  /** @deprecated Use `client.messages.send(chatroomId, { content, attachments, parentId, wait }, { idempotencyKey })`. */
  sendMessage(chatroomId: string, content: string, options?: SendMessageOptions): APIPromise<SendResult>;
  /** @deprecated Use `client.messages.list`. */
  listMessages(chatroomId: string, options?: QueryParams<'listMessages'>): PagePromise<Message, { nextCursor: string | null }>;
  /** @deprecated Use `client.messages.get`. */
  getMessage(chatroomId: string, messageId: string): APIPromise<Message>;
  /** @deprecated Use `client.messages.latestReply`. */
  getLatestReply(chatroomId: string): ReturnType<Resources['messages']['latestReply']>;
  /** @deprecated Use `client.messages.cancel`. */
  cancelReply(chatroomId: string, messageId: string): ReturnType<Resources['messages']['cancel']>;
  /** @deprecated Use `client.messages.regenerate(chatroomId, replyId, { wait }, { idempotencyKey })`. */
  regenerate(chatroomId: string, replyId: string, options?: SendOptions): APIPromise<SendResult>;
  /** @deprecated Use `client.messages.regenerate`. */
  regenerateReply(chatroomId: string, messageId: string, options?: SendOptions): APIPromise<SendResult>;
  /** @deprecated Use `client.messages.edit(chatroomId, prompt, { content, attachments, wait })`. */
  editPrompt(chatroomId: string, prompt: Parameters<Resources['messages']['edit']>[1], newContent: string, options?: EditPromptOptions): APIPromise<SendResult>;
  /** @deprecated Use `client.chatrooms.switchBranch`. */
  switchBranch(chatroomId: string, messageId: string): APIPromise<Schemas['Chatroom']>;
  /** @deprecated Use `client.chatrooms.fork(chatroomId, { messageId })`. */
  forkChatroom(chatroomId: string, messageId: string): APIPromise<Schemas['ChatroomDetail']>;
  /** @deprecated Use `client.replies.stream`. */
  streamReply(chatroomId: string, messageId: string, options?: StreamReplyOptions & { thoughts?: false }): AsyncGenerator<ReplyEvent, void, undefined>;
  /** @deprecated Use `client.replies.stream`. */
  streamReply(chatroomId: string, messageId: string, options: StreamReplyOptions): AsyncGenerator<ReplyEvent | ThoughtEvent, void, undefined>;
  /** @deprecated Use `client.files.upload(data, { name, type }, { signal })`. */
  uploadFile(data: UploadData, options?: UploadParams & { signal?: AbortSignal }): APIPromise<Schemas['File']>;
  /** @deprecated Use `client.files.list`. */
  listFiles(query?: QueryParams<'listFiles'>): ReturnType<Resources['files']['list']>;
  /** @deprecated Use `client.files.get`. */
  getFile(fileId: string): APIPromise<Schemas['File']>;
  /** @deprecated Use `client.files.delete`. */
  deleteFile(fileId: string): APIPromise<void>;
  /** @deprecated Use `client.files.download(fileId, { range }, { signal })`. */
  downloadFile(fileId: string, options?: DownloadParams & { signal?: AbortSignal }): APIPromise<Response>;
  /** @deprecated Use `client.billing.checkout`. */
  subscribePro(): APIPromise<Schemas['Checkout']>;
  /** @deprecated Use `client.billing.status`. */
  getSubscriptionStatus(): APIPromise<Schemas['SubscriptionStatus']>;
  /** @deprecated Use `client.billing.portal`. */
  createBillingPortalSession(): APIPromise<Schemas['BillingPortalSession']>;
  /** @deprecated Use `client.chatrooms.export(chatroomId, { format })`. */
  exportChatroom(chatroomId: string, format?: 'json'): APIPromise<Schemas['ChatroomExport']>;
  /** @deprecated Use `client.chatrooms.export(chatroomId, { format })`. */
  exportChatroom(chatroomId: string, format: 'markdown'): APIPromise<string>;
  /** @deprecated Use `client.chatrooms.import`. */
  importChatrooms(body: RequestBody<'importChatrooms'>, options?: { idempotencyKey?: string | true }): APIPromise<Schemas['ImportResult']>;
  /** @deprecated Use `client.search.query`. */
  search(q: string, options?: Omit<QueryParams<'search'>, 'q'>): ReturnType<Resources['search']['query']>;
  /** @deprecated Use `client.apiKeys.create`. */
  createApiKey(body: RequestBody<'createApiKey'>): APIPromise<Schemas['CreatedApiKey']>;
  /** @deprecated Use `client.apiKeys.list`. */
  listApiKeys(): APIPromise<Schemas['ApiKeyList']>;
  /** @deprecated Use `client.apiKeys.revoke`. */
  revokeApiKey(apiKeyId: string): APIPromise<void>;
  /** @deprecated Use `client.user.export`. */
  exportAccount(): APIPromise<Schemas['AccountExport']>;
  /** @deprecated Use `client.user.delete({ otp })`. */
  deleteAccount(otp: string): APIPromise<void>;
  /** @deprecated Use `client.shares.create`. */
  createShare(chatroomId: string): APIPromise<Schemas['Share']>;
  /** @deprecated Use `client.shares.list`. */
  listShares(query?: QueryParams<'listShares'>): ReturnType<Resources['shares']['list']>;
  /** @deprecated Use `client.shares.delete`. */
  deleteShare(shareId: string): APIPromise<void>;
  /** @deprecated Use `client.shares.get`. */
  getShare(shareId: string): APIPromise<Schemas['PublicShare']>;
}

/** @deprecated 0.1 options of `sendMessage`/`regenerate`: see `messages.send`. */
export interface SendOptions {
  /** `true`: a fresh UUID (the 1.0 default anyway); `false`: no key, no retries. */
  idempotencyKey?: string | boolean;
  wait?: number;
  /** Retries of the send (the 1.0 `maxRetries`). */
  retries?: number;
  signal?: AbortSignal;
}
/** @deprecated See `messages.send`. */
export interface SendMessageOptions extends SendOptions {
  parentId?: string | null;
  attachments?: NonNullable<RequestBody<'sendMessage'>['attachments']>;
}
/** @deprecated See `messages.edit`. */
export interface EditPromptOptions extends SendOptions {
  attachments?: NonNullable<RequestBody<'sendMessage'>['attachments']>;
}

export interface GeminiChatClient extends Omit<Resources, 'search'>, Omit<DeprecatedMethods, 'search'> {
  /** `search.query(q, { limit })`; still callable as the 0.1 `search(q, options)` (deprecated). */
  readonly search: Resources['search'] & DeprecatedMethods['search'];
  /** The typed openapi-fetch client for every operation: `api.GET('/chatroom/{id}', { params: { path: { id } } })`. */
  readonly api: Client<paths>;
  /** Where the tokens are kept. */
  readonly tokens: TokenStore;
  /** The signed-in user: the same as `client.user`. */
  readonly me: Resources['user'];
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_RETRIES = 2;

/** The 0.1 send options as 1.0 request options. */
function sendOptionsOf(opts: SendOptions): IdempotentRequestOptions {
  return {
    ...(opts.idempotencyKey === true || opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey }),
    ...(opts.retries !== undefined ? { maxRetries: opts.retries } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
}

/** A client for the Gemini chat API. Runs wherever `fetch`, web streams and `crypto.getRandomValues` exist. */
export function createClient(options: ClientOptions): GeminiChatClient {
  const { baseUrl } = options;
  const tokens = options.tokenStore ?? memoryTokenStore();
  // Looked up per call, so a fetch patched later (tests, polyfills) is used, and never called with a foreign `this`.
  const send: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
  const headers = new Headers(options.headers);
  const session = createSession({
    baseUrl,
    fetch: send,
    tokens,
    headers,
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.onSessionExpired ? { onSessionExpired: options.onSessionExpired } : {}),
  });
  const api = createFetchClient<paths>({ baseUrl, fetch: session.fetch, headers: options.headers });
  const resources = createResources({
    config: {
      baseUrl,
      fetch: session.fetch,
      headers,
      timeout: options.timeout ?? DEFAULT_TIMEOUT_MS,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
    },
    session,
    tokens,
  });
  const { auth, user, chatrooms, messages, replies, files, models, search, shares, apiKeys, billing } = resources;

  const regenerate: DeprecatedMethods['regenerate'] = (id, replyId, opts = {}) =>
    messages.regenerate(id, replyId, opts.wait !== undefined ? { wait: opts.wait } : {}, sendOptionsOf(opts));
  const deprecated: DeprecatedMethods = {
    signup: (body) => auth.signup(body),
    sendOtp: (body) => auth.sendOtp(body),
    verifyOtp: (body) => auth.verifyOtp(body),
    login: (body) => auth.login(body),
    refresh: () => auth.refresh(),
    logout: () => auth.logout(),
    forgotPassword: (body) => auth.forgotPassword(body),
    resetPassword: (body) => auth.resetPassword(body),
    changePassword: (body) => auth.changePassword(body),
    getMe: () => user.get(),
    updateMe: (body) => user.update(body),
    listModels: () => models.list(),
    listChatrooms: (query) => chatrooms.list(query),
    createChatroom: (body) => chatrooms.create(body),
    getChatroom: (id) => chatrooms.get(id),
    updateChatroom: (id, body) => chatrooms.update(id, body),
    deleteChatroom: (id) => chatrooms.delete(id),
    sendMessage: (id, content, opts = {}) =>
      messages.send(
        id,
        {
          content,
          ...(opts.parentId !== undefined ? { parentId: opts.parentId } : {}),
          ...(opts.attachments ? { attachments: opts.attachments } : {}),
          ...(opts.wait !== undefined ? { wait: opts.wait } : {}),
        },
        sendOptionsOf(opts),
      ),
    listMessages: (id, query) => messages.list(id, query),
    getMessage: (id, messageId) => messages.get(id, messageId),
    getLatestReply: (id) => messages.latestReply(id),
    cancelReply: (id, messageId) => messages.cancel(id, messageId),
    regenerate,
    regenerateReply: regenerate,
    editPrompt: (id, prompt, content, opts = {}) =>
      messages.edit(
        id,
        prompt,
        { content, ...(opts.attachments ? { attachments: opts.attachments } : {}), ...(opts.wait !== undefined ? { wait: opts.wait } : {}) },
        sendOptionsOf(opts),
      ),
    switchBranch: (id, messageId) => chatrooms.switchBranch(id, messageId),
    forkChatroom: (id, messageId) => chatrooms.fork(id, { messageId }),
    streamReply: ((id: string, messageId: string, opts?: StreamReplyOptions) => replies.stream(id, messageId, opts ?? {})) as DeprecatedMethods['streamReply'],
    uploadFile: (data, { signal, ...params } = {}) => files.upload(data, params, signal ? { signal } : {}),
    listFiles: (query) => files.list(query),
    getFile: (id) => files.get(id),
    deleteFile: (id) => files.delete(id),
    downloadFile: (id, { signal, ...params } = {}) => files.download(id, params, signal ? { signal } : {}),
    subscribePro: () => billing.checkout(),
    getSubscriptionStatus: () => billing.status(),
    createBillingPortalSession: () => billing.portal(),
    exportChatroom: ((id: string, format: 'json' | 'markdown' = 'json') =>
      chatrooms.export(id, { format: format as 'json' })) as DeprecatedMethods['exportChatroom'],
    importChatrooms: (body, opts = {}) =>
      chatrooms.import(body, typeof opts.idempotencyKey === 'string' ? { idempotencyKey: opts.idempotencyKey } : {}),
    search: (q, query) => search.query(q, query),
    createApiKey: (body) => apiKeys.create(body),
    listApiKeys: () => apiKeys.list(),
    revokeApiKey: (id) => apiKeys.revoke(id),
    exportAccount: () => user.export(),
    deleteAccount: (otp) => user.delete({ otp }),
    createShare: (id) => shares.create(id),
    listShares: (query) => shares.list(query),
    deleteShare: (id) => shares.delete(id),
    getShare: (id) => shares.get(id),
  };

  return { ...deprecated, ...resources, search: Object.assign(deprecated.search, search), me: user, api, tokens };
}
