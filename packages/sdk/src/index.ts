export { siblingLabel } from './branches.js';
export type { SiblingLabel } from './branches.js';
export { createClient } from './client.js';
export type { ClientOptions, DeprecatedMethods, EditPromptOptions, GeminiChatClient, SendMessageOptions, SendOptions } from './client.js';
export type {
  DownloadParams,
  EditParams,
  Message,
  PromptMessage,
  QueryParams,
  ReplyFailureCode,
  ReplyMessage,
  ReplyStreamOptions,
  RequestBody,
  Resources,
  Schemas,
  SendParams,
  SendRequestOptions,
  SendResult,
  UploadData,
  UploadParams,
} from './resources.js';
export { APIPromise } from './api-promise.js';
export type { RateLimitInfo, WithResponse } from './api-promise.js';
export { PagePromise } from './pagination.js';
export type { Page, PageMethods } from './pagination.js';
export type { IdempotentRequestOptions, RequestOptions } from './request.js';
export {
  APIConnectionError,
  APITimeoutError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  GeminiChatError,
  InternalServerError,
  isGeminiChatError,
  NotFoundError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitError,
  ServiceUnavailableError,
  UnprocessableEntityError,
  unwrap,
} from './errors.js';
export type { ApiResult, ClientErrorCode, ErrorCode, FieldError, Problem } from './errors.js';
export type { ReplyEvent, StreamReplyOptions, ThoughtEvent } from './reply-stream.js';
export type { FetchLike } from './session.js';
export { memoryTokenStore } from './token-store.js';
export type { TokenPair, TokenStore } from './token-store.js';
export type { components, operations, paths } from './schema.js';
