export { siblingLabel } from './branches.js';
export type { SiblingLabel } from './branches.js';
export { createClient } from './client.js';
export type {
  ClientOptions,
  DownloadFileOptions,
  EditPromptOptions,
  GeminiChatClient,
  ListFilesOptions,
  ListMessagesOptions,
  ListSharesOptions,
  QueryParams,
  RequestBody,
  Schemas,
  SendMessageOptions,
  SendOptions,
  UploadData,
  UploadFileOptions,
} from './client.js';
export { GeminiChatError, unwrap } from './errors.js';
export type { ApiResult, ErrorCode, FieldError, Problem } from './errors.js';
export type { ReplyEvent, StreamReplyOptions, ThoughtEvent } from './reply-stream.js';
export type { FetchLike } from './session.js';
export { memoryTokenStore } from './token-store.js';
export type { TokenPair, TokenStore } from './token-store.js';
export type { components, operations, paths } from './schema.js';
