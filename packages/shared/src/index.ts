export { loadConfig, loadConfigOrExit, describeEnv, ConfigError, EnvSchema, type Config, type StripeApiAddress } from './config/config.js';
export { createDb, type DbLogger } from './db/create-db.js';
export { migrateToLatest } from './db/migrate.js';
export type {
  Database,
  Tier,
  OtpPurpose,
  TitleSource,
  MessageRole,
  MessageStatus,
  UserRow,
  ChatroomRow,
  MessageRow,
  SubscriptionRow,
  CheckoutSessionRow,
  CheckoutSessionStatus,
} from './db/database.js';
export { createStore, type Store, type Repositories } from './repositories/store.js';
export type { ChatroomCursor } from './repositories/chatroom.repository.js';
export type { ActiveSession } from './repositories/session.repository.js';
export type { BillingAccountRow } from './repositories/billing-account.repository.js';
export type { SubscriptionSnapshot } from './repositories/subscription.repository.js';
export { createRedis, closeRedis, waitForRedis, redisKeys, type RedisKeys, type RedisLogger } from './redis/create-redis.js';
export { createQuota, type Quota, type QuotaUsage, type ChargeResult, type ChargedUnits } from './quota/quota.js';
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
} from './errors.js';
export { createIdempotencyRepository, type StoredResponse } from './repositories/idempotency.repository.js';
export {
  QUEUE_NAME,
  bullPrefix,
  jobIdFor,
  jobOptions,
  createJobProducer,
  type JobPayloads,
  type JobName,
  type JobProducer,
} from './jobs/jobs.js';
export {
  createReplyEvents,
  createReplyNotifications,
  TERMINAL_EVENTS,
  type ReplyEvent,
  type ReplyEventType,
  type ReplyEvents,
  type ReplyNotifications,
} from './replies/reply-events.js';
