export { loadConfig, loadConfigOrExit, describeEnv, ConfigError, type Config, type ConfiguredModel, type FilesConfig, type StorageConfig } from './config/config.js';
export { createDb } from './db/create-db.js';
export type { Logger } from './logger.js';
export { migrateToLatest } from './db/migrate.js';
export type {
  Database,
  Tier,
  OtpPurpose,
  UserRow,
  ChatroomRow,
  MessageRow,
  MessageWithSiblings,
  SubscriptionRow,
  ReplySettings,
  Citation,
  FileRow,
  ApiKeyRow,
  SharedMessage,
} from './db/database.js';
export { isPending } from './db/database.js';
export { createStore, type Store, type Repositories } from './repositories/store.js';
export type { ActiveSession } from './repositories/session.repository.js';
export type { ActiveApiKey, ApiKeyRepository } from './repositories/api-key.repository.js';
export type { BillingAccountRow } from './repositories/billing-account.repository.js';
export type { ShareSummary } from './repositories/share.repository.js';
export type { ChatroomExportRows, ExportedAttachmentRow } from './repositories/chatroom-export.repository.js';
export { createRedis, closeRedis, waitForRedis, redisKeys } from './redis/create-redis.js';
export { createQuota, type Quota, type ChargeResult, type QuotaCount } from './quota/quota.js';
export { createChatroomListCache, type ChatroomListCache, type CachedPage } from './cache/chatroom-list-cache.js';
export {
  AppError,
  DependencyUnavailableError,
  dependencyOf,
  notFound,
  unauthorized,
  conflict,
  badRequest,
  tooManyRequests,
  type FieldError,
  type QuotaState,
} from './errors.js';
export {
  QUEUE_NAME,
  bullPrefix,
  jobIdFor,
  createJobProducer,
  type JobPayloads,
  type JobName,
  type JobProducer,
  type TracedPayload,
} from './jobs/jobs.js';
export {
  createReplyEvents,
  createReplyNotifications,
  TERMINAL_EVENTS,
  type ReplyEvent,
  type ReplyEvents,
  type ReplyNotifications,
} from './replies/reply-events.js';
export { createStorage } from './storage/create-storage.js';
export {
  ObjectNotFoundError,
  fileStorageKey,
  type ObjectStorage,
  type StoredObject,
  type ByteRange,
} from './storage/object-storage.js';
export {
  ERROR_CODES,
  ROUTELESS_ERROR_CODES,
  REPLY_FAILURE_CODES,
  isErrorCode,
  isReplyFailureCode,
  asReplyFailureCode,
  type ErrorCode,
  type ErrorCodeEntry,
  type ReplyFailureCode,
  type ReplyFailureEntry,
} from './error-codes.js';
export {
  activeTraceId,
  contextFromCarrier,
  currentTraceCarrier,
  enqueuedUntraced,
  traceLogFields,
  type TraceCarrier,
} from './telemetry/trace-context.js';
export { shutdownTracing } from './telemetry/tracing-shutdown.js';
export { tracingSettingsFromEnv, type TracingSettings } from './telemetry/tracing-settings.js';
export { samplerFromEnv, shouldTraceIncoming, type SamplerSettings } from './telemetry/sampling.js';
