import { isIP } from 'node:net';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { Tier } from '../db/database.js';
import type { SamplerSettings } from '../telemetry/sampling.js';
import { tracingSettingsFromEnv, type TraceExporterKind } from '../telemetry/tracing-settings.js';

// Every setting the processes read, as environment variables. Defaults make a fresh clone run offline;
// production refuses the development-only defaults (see checkProductionRules).
const Int = (options: { minimum?: number; maximum?: number; default: number; description: string }) =>
  Type.Integer({ minimum: 0, ...options });
const Bool = (description: string, defaultValue: boolean) => Type.Boolean({ default: defaultValue, description });

export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
    description: 'development | test | production',
  }),
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface the API listens on (0.0.0.0 in containers).' }),
  PORT: Int({ minimum: 0, maximum: 65535, default: 3000, description: 'API port.' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info', description: 'pino log level.' },
  ),
  TRUST_PROXY: Type.String({
    default: 'false',
    description:
      'Which peers may set X-Forwarded-For: false (none; clients connect directly), or the addresses/CIDRs of the proxies in front of the API, comma-separated (e.g. 10.0.0.0/8, or loopback). `true` and hop counts are refused: they would let a client choose its own IP.',
  }),
  CORS_ORIGINS: Type.String({
    default: '*',
    description: 'Comma-separated allowed browser origins, or * for any.',
  }),
  PUBLIC_BASE_URL: Type.String({ default: '', description: 'Public URL of the API, used in links (defaults to http://HOST:PORT).' }),
  BODY_LIMIT_BYTES: Int({ minimum: 1024, default: 64 * 1024, description: 'Largest accepted request body.' }),
  IMPORT_MAX_BYTES: Int({
    minimum: 1024,
    default: 10 * 1024 * 1024,
    description: 'Largest body of POST /chatroom/import (a chatroom export or a ChatGPT conversations.json); 413 above it.',
  }),

  DATABASE_URL: Type.String({
    default: 'postgres://postgres@127.0.0.1:5432/gemini_chat',
    description: 'PostgreSQL connection URL.',
  }),
  DATABASE_LISTEN_URL: Type.String({
    default: '',
    description:
      'PostgreSQL URL of the API\'s one LISTEN connection (the in-memory chatroom and /user/me caches learn of changes on it); empty: DATABASE_URL. Must reach Postgres directly: PgBouncer in transaction mode cannot LISTEN.',
  }),
  DATABASE_SCHEMA: Type.String({ default: '', description: 'Postgres schema to use (search_path); empty means the default (public).' }),
  DATABASE_POOL_MAX: Int({ minimum: 1, default: 10, description: 'Connections per process.' }),
  DATABASE_CONNECT_TIMEOUT_MS: Int({ minimum: 100, default: 3000, description: 'Give up connecting after this long (then 503).' }),
  DATABASE_STATEMENT_TIMEOUT_MS: Int({ minimum: 100, default: 10000, description: 'Server-side statement timeout.' }),

  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis connection URL.' }),
  REDIS_KEY_PREFIX: Type.String({ default: 'gemini-chat:', description: 'Prefix of every Redis key this app writes.' }),
  REDIS_COMMAND_TIMEOUT_MS: Int({ minimum: 50, default: 2000, description: 'Fail a Redis command after this long (then 503).' }),

  JWT_SECRET: Type.String({ default: '', description: 'HS256 secret for access tokens, at least 32 characters. Required in production.' }),
  JWT_ISSUER: Type.String({ default: 'gemini-chat', description: 'iss claim of access tokens.' }),
  JWT_AUDIENCE: Type.String({ default: 'gemini-chat-api', description: 'aud claim of access tokens.' }),
  ACCESS_TOKEN_TTL_SECONDS: Int({ minimum: 30, default: 900, description: 'Access token lifetime.' }),
  REFRESH_TOKEN_TTL_DAYS: Int({ minimum: 1, default: 30, description: 'Refresh token (session) lifetime.' }),

  OTP_SECRET: Type.String({ default: '', description: 'Key of the OTP hash, at least 32 characters. Required in production.' }),
  OTP_DELIVERY: Type.Union([Type.Literal('response'), Type.Literal('log')], {
    default: 'response',
    description: 'response: the code is returned in the API body (offline default); log: only logged.',
  }),
  OTP_ALLOW_RESPONSE_DELIVERY_IN_PRODUCTION: Bool('Explicitly allow OTP_DELIVERY=response in production.', false),
  OTP_TTL_SECONDS: Int({ minimum: 30, default: 300, description: 'OTP lifetime.' }),
  OTP_MAX_ATTEMPTS: Int({ minimum: 1, default: 5, description: 'Wrong tries before a code is locked.' }),
  OTP_RESEND_COOLDOWN_SECONDS: Int({ default: 30, description: 'Minimum time between two codes for the same number and purpose.' }),
  OTP_HOURLY_SEND_LIMIT: Int({ minimum: 1, default: 5, description: 'Codes sent to one number per rolling hour.' }),
  DEFAULT_PHONE_REGION: Type.String({
    default: '',
    description: 'ISO country (e.g. IN) used to read numbers written without +country code; empty requires E.164.',
  }),

  AUTH_RATE_LIMIT_PER_IP: Int({ minimum: 1, default: 30, description: 'Auth requests per IP per minute.' }),
  AUTH_RATE_LIMIT_PER_NUMBER: Int({ minimum: 1, default: 10, description: 'Auth requests per mobile number per 15 minutes.' }),
  API_KEY_RATE_LIMIT_PER_MINUTE: Int({ minimum: 1, default: 120, description: 'Requests per API key per minute (across all API instances).' }),
  SHARE_RATE_LIMIT_PER_IP: Int({ minimum: 1, default: 60, description: 'Reads of public share links (GET /s/{shareId}) per IP per minute.' }),

  SSE_HEARTBEAT_SECONDS: Int({ minimum: 1, default: 15, description: 'Comment line sent on idle reply streams so proxies keep them open.' }),
  PREFER_WAIT_MAX_SECONDS: Int({ minimum: 0, maximum: 300, default: 60, description: 'Longest `Prefer: wait=N` honoured.' }),

  GEMINI_API_KEY: Type.String({ default: '', description: 'Google AI Studio key. Empty: use GEMINI_BASE_URL (npm run dev starts a local fake).' }),
  GEMINI_BASE_URL: Type.String({ default: '', description: 'Override the Gemini endpoint (the local fake in dev and tests).' }),
  GEMINI_MODEL: Type.String({
    default: 'gemini-flash-latest',
    description: 'Model id or alias used for replies, and the default model of a tier whose GEMINI_DEFAULT_MODEL_* is unset.',
  }),
  GEMINI_MODELS: Type.String({
    default: '',
    description:
      'The models callers may use (GET /models): comma-separated `id:tier+tier` entries, tiers basic and pro, e.g. gemini-3.5-flash-lite:basic+pro,gemini-3.8-flash:basic+pro,gemini-3.1-pro-preview:pro. An id without tiers is open to every tier. Empty: GEMINI_MODEL alone, for every tier.',
  }),
  GEMINI_DEFAULT_MODEL_BASIC: Type.String({
    default: '',
    description: 'Default model of basic users: one of GEMINI_MODELS open to basic. Empty: GEMINI_MODEL (which must then be such a model).',
  }),
  GEMINI_DEFAULT_MODEL_PRO: Type.String({
    default: '',
    description: 'Default model of pro users: one of GEMINI_MODELS open to pro. Empty: GEMINI_MODEL (which must then be such a model).',
  }),
  GEMINI_MODELS_CACHE_SECONDS: Int({
    minimum: 1,
    default: 600,
    description: 'How long an API process keeps Gemini\'s model list (limits, thinking) before asking again; a failed ask is retried after at most 30 s.',
  }),
  GEMINI_MODELS_TIMEOUT_MS: Int({
    minimum: 100,
    default: 2000,
    description: 'Give up asking Gemini for its model list after this long; GET /models then answers from GEMINI_MODELS alone.',
  }),
  GEMINI_MAX_OUTPUT_TOKENS: Int({ minimum: 1, default: 1024, description: 'Output cap per reply.' }),
  GEMINI_CONTEXT_TOKEN_BUDGET: Int({ minimum: 100, default: 8000, description: 'Prompt budget: system prompt + history + prompt; oldest turns dropped first.' }),
  GEMINI_TIMEOUT_MS: Int({ minimum: 100, default: 60000, description: 'Abort one Gemini call after this long (then retried).' }),
  GEMINI_IDLE_TIMEOUT_MS: Int({ minimum: 100, default: 20000, description: 'Abort a stream that sends nothing for this long (then retried).' }),

  WORKER_CONCURRENCY: Int({ minimum: 1, default: 8, description: 'Replies generated at once per worker process.' }),
  WORKER_METRICS_PORT: Int({ maximum: 65535, default: 9464, description: 'Port of the worker\'s /metrics and /health (0 = random).' }),
  WORKER_LOCK_DURATION_MS: Int({ minimum: 1000, default: 30000, description: 'Job lock; a crashed worker\'s job is taken over after about this long.' }),
  REPLY_MAX_ATTEMPTS: Int({ minimum: 1, default: 4, description: 'Tries per reply before it is marked failed.' }),
  REPLY_RETRY_BASE_DELAY_MS: Int({ minimum: 0, default: 1000, description: 'First retry delay; doubles each attempt (Gemini\'s RetryInfo wins when given).' }),
  REPLY_STREAM_TTL_SECONDS: Int({ minimum: 10, default: 600, description: 'How long a finished reply stays replayable as a stream.' }),
  SWEEP_INTERVAL_MS: Int({ minimum: 100, default: 15000, description: 'How often the worker re-enqueues replies whose job was lost.' }),
  SWEEP_PENDING_AFTER_SECONDS: Int({ minimum: 1, default: 120, description: 'A reply pending this long without a job is re-enqueued.' }),
  REPLY_DELTA_FLUSH_MS: Int({
    maximum: 1000,
    default: 20,
    description: 'Text the model streams within this window after an append goes to the live log as one delta (the first chunk at once). 0: one delta per model chunk.',
  }),

  CHATROOM_LIST_CACHE_TTL_SECONDS: Int({ minimum: 1, default: 300, description: 'TTL of the cached chatroom list.' }),
  LOCAL_CACHE_SECONDS: Int({
    maximum: 300,
    default: 30,
    description:
      'How long an API process keeps checked sessions (with the tier), chatroom list pages, chatroom pages and GET /user/me in memory. Changes reach every process at once (Redis pub/sub, Postgres NOTIFY); this only bounds a lost announcement. 0 turns them off.',
  }),
  QUOTA_BASIC_DAILY: Int({ default: 5, description: 'Prompts per UTC day for basic users (0 = unlimited).' }),
  QUOTA_PRO_DAILY: Int({ default: 1000, description: 'Prompts per UTC day for pro users (0 = unlimited).' }),

  // Billing (Stripe). Optional: without STRIPE_SECRET_KEY everyone stays basic and the billing routes answer 503.
  STRIPE_SECRET_KEY: Type.String({
    default: '',
    description: 'Stripe secret key (sk_…). Empty: billing is off (npm run dev starts a local fake Stripe and sets one).',
  }),
  STRIPE_WEBHOOK_SECRET: Type.String({
    default: '',
    description: 'Signing secret (whsec_…) of the POST /webhook/stripe endpoint. Required when STRIPE_SECRET_KEY is set.',
  }),
  STRIPE_PRO_PRICE_ID: Type.String({ default: 'price_pro_monthly', description: 'The recurring Stripe price of the Pro plan.' }),
  STRIPE_API_BASE_URL: Type.String({
    default: '',
    description: 'Send Stripe API calls here instead of api.stripe.com (the local fake, e.g. http://127.0.0.1:12111). Never with a live key.',
  }),
  BILLING_SUCCESS_URL: Type.String({
    default: '',
    description: 'Where Checkout sends the customer after paying ({CHECKOUT_SESSION_ID} is filled in). Empty: the API docs. Required in production with billing on.',
  }),
  BILLING_CANCEL_URL: Type.String({
    default: '',
    description: 'Where Checkout sends a customer who backs out. Empty: the API docs. Required in production with billing on.',
  }),
  BILLING_PORTAL_RETURN_URL: Type.String({ default: '', description: 'The Billing Portal\'s return link. Empty: BILLING_CANCEL_URL.' }),
  BILLING_PAST_DUE_GRACE_HOURS: Int({ default: 72, description: 'A past_due subscription keeps Pro this long after its failed payment was first seen.' }),
  BILLING_SWEEP_INTERVAL_SECONDS: Int({
    minimum: 1,
    default: 60,
    description: 'How often each API process returns users to basic whose time-limited Pro ended without a webhook.',
  }),
  // Attachments: uploaded files and where their bytes live.
  STORAGE_DRIVER: Type.Union([Type.Literal('filesystem'), Type.Literal('s3')], {
    default: 'filesystem',
    description: 'Where uploaded files are kept: filesystem (FILES_DIR) or s3 (any S3-compatible store, S3_*).',
  }),
  FILES_DIR: Type.String({ default: './data/files', description: 'Directory of the filesystem driver (shared by every API and worker process).' }),
  S3_BUCKET: Type.String({ default: '', description: 'Bucket of the s3 driver. Required with STORAGE_DRIVER=s3.' }),
  S3_REGION: Type.String({ default: 'us-east-1', description: 'Region of the s3 driver.' }),
  S3_ENDPOINT: Type.String({ default: '', description: 'S3-compatible endpoint (MinIO, R2, a local server). Empty: AWS S3.' }),
  S3_ACCESS_KEY_ID: Type.String({ default: '', description: 'Access key of the s3 driver. Empty: the AWS SDK\'s default credential chain.' }),
  S3_SECRET_ACCESS_KEY: Type.String({ default: '', description: 'Secret key of the s3 driver (with S3_ACCESS_KEY_ID).' }),
  S3_FORCE_PATH_STYLE: Bool('Address the bucket in the path (MinIO and most local servers need it).', false),
  FILE_MAX_BYTES: Int({ minimum: 1, default: 20 * 1024 * 1024, description: 'Largest accepted file (413 FILE_TOO_LARGE above it).' }),
  FILE_PDF_MAX_PAGES: Int({ minimum: 1, default: 1000, description: 'Most pages a PDF may have (Gemini reads at most 1000).' }),
  STORAGE_QUOTA_BASIC_BYTES: Int({ default: 100 * 1024 * 1024, description: 'Stored bytes a basic user may keep (409 STORAGE_QUOTA_EXCEEDED above it).' }),
  STORAGE_QUOTA_PRO_BYTES: Int({ default: 10 * 1024 * 1024 * 1024, description: 'Stored bytes a pro user may keep.' }),
  FILES_SWEEP_INTERVAL_SECONDS: Int({ minimum: 1, default: 3600, description: 'How often the worker removes stored objects without a file and files without an object.' }),
  FILES_ORPHAN_GRACE_SECONDS: Int({
    minimum: 1,
    default: 3600,
    description: 'An object without a file row is removed only once it is this old (an upload may still be finishing).',
  }),
  GEMINI_INLINE_MAX_BYTES: Int({
    default: 1024 * 1024,
    description: 'Attachments up to this size go to Gemini inline; larger ones through the Files API (uploaded once, reused until they expire).',
  }),

  // Tracing: OpenTelemetry's own variables, read by its SDK in the `--import` preload (docs/observability.md).
  // Listed here so they are documented and a typo in the switch is refused at start.
  OTEL_TRACES_EXPORTER: Type.Union(['', 'otlp', 'console', 'none'].map((value) => Type.Literal(value)), {
    default: '',
    description: 'Tracing: otlp or console turns it on; empty or none leaves it off (unless an OTLP endpoint is set).',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.String({ default: '', description: 'Tracing: OTLP/HTTP collector base URL (e.g. http://127.0.0.1:4318); setting it implies otlp.' }),
  OTEL_SERVICE_NAME: Type.String({ default: '', description: 'Tracing: service.name of this process (default gemini-chat-api / gemini-chat-worker).' }),
  OTEL_TRACES_SAMPLER: Type.String({ default: '', description: 'Tracing: sampler, e.g. parentbased_traceidratio (default parentbased_always_on).' }),
  OTEL_TRACES_SAMPLER_ARG: Type.String({ default: '', description: 'Tracing: the sampler\'s argument, e.g. 0.1 to keep 10 % of traces.' }),
  OTEL_SDK_DISABLED: Bool('Tracing: true keeps it off whatever else is set.', false),
});
export type Env = Static<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  http: {
    host: string;
    port: number;
    /** false, a hop count, or the addresses/CIDRs of trusted proxies (never "trust everyone"). */
    trustProxy: TrustProxy;
    corsOrigins: string[] | '*';
    publicBaseUrl: string;
    bodyLimitBytes: number;
    /** The body limit of the chatroom import route alone (an export file is far larger than any other request). */
    importMaxBytes: number;
  };
  logLevel: Env['LOG_LEVEL'];
  /**
   * What the OTEL_* variables ask of tracing: on or off, the exporter, and OTEL_SERVICE_NAME ('' = the process's
   * own name). The preload starts the SDK from this before the app loads.
   */
  tracing: { enabled: boolean; exporter: TraceExporterKind | 'none'; serviceName: string; sampler?: SamplerSettings };
  database: { url: string; listenUrl: string; poolMax: number; connectTimeoutMs: number; statementTimeoutMs: number; schema?: string };
  redis: { url: string; keyPrefix: string; commandTimeoutMs: number };
  auth: {
    jwtSecret: string;
    issuer: string;
    audience: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlDays: number;
    rateLimitPerIp: number;
    rateLimitPerNumber: number;
    apiKeyRateLimitPerMinute: number;
  };
  otp: {
    secret: string;
    delivery: 'response' | 'log';
    ttlSeconds: number;
    maxAttempts: number;
    resendCooldownSeconds: number;
    hourlySendLimit: number;
    defaultRegion: string | undefined;
  };
  chatroomListCacheTtlSeconds: number;
  localCacheSeconds: number;
  quota: { basic: number; pro: number };
  messages: { preferWaitMaxSeconds: number; sseHeartbeatSeconds: number };
  shares: { rateLimitPerIp: number };
  gemini: {
    apiKey: string;
    baseUrl: string | undefined;
    model: string;
    /** The allow-list of GET /models, in the configured order, each with the tiers that may use it. */
    models: ConfiguredModel[];
    /** Every tier's default: always one of `models` open to that tier. */
    defaultModel: Record<Tier, string>;
    modelsCacheSeconds: number;
    modelsTimeoutMs: number;
    maxOutputTokens: number;
    contextTokenBudget: number;
    timeoutMs: number;
    idleTimeoutMs: number;
    /** Attachments up to this size are sent inline; larger ones through the Files API. */
    inlineMaxBytes: number;
  };
  files: FilesConfig;
  billing: {
    /** Undefined when STRIPE_SECRET_KEY is unset: billing is off. */
    stripe: { secretKey: string; webhookSecret: string; api: StripeApiAddress | undefined } | undefined;
    proPriceId: string;
    successUrl: string;
    cancelUrl: string;
    portalReturnUrl: string;
    pastDueGraceHours: number;
    sweepIntervalSeconds: number;
  };
  worker: {
    concurrency: number;
    metricsPort: number;
    lockDurationMs: number;
    maxAttempts: number;
    retryBaseDelayMs: number;
    replyStreamTtlSeconds: number;
    /** See REPLY_DELTA_FLUSH_MS. */
    deltaFlushMs: number;
    sweepIntervalMs: number;
    sweepPendingAfterSeconds: number;
  };
}

export interface FilesConfig {
  storage: StorageConfig;
  maxBytes: number;
  pdfMaxPages: number;
  quotaBytes: Record<Tier, number>;
  sweepIntervalSeconds: number;
  orphanGraceSeconds: number;
}

export type StorageConfig =
  | { driver: 'filesystem'; dir: string }
  | {
      driver: 's3';
      bucket: string;
      region: string;
      endpoint: string | undefined;
      /** Undefined: the AWS SDK's default credential chain. */
      credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
      forcePathStyle: boolean;
    };

export interface ConfiguredModel {
  id: string;
  tiers: Tier[];
}

/**
 * Fastify's trustProxy in a form that cannot be spoofed: only the listed peers' X-Forwarded-For is believed, and
 * the client address is the rightmost entry no trusted proxy wrote. A hop count is not offered: it cannot tell
 * our proxy from a client that connects directly with a forged header (Fastify 5 ignores hop counts for that
 * reason), and `true` would let every client choose its own address.
 */
export type TrustProxy = false | string[];

/** Names proxy-addr (Fastify's trust check) accepts besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** The parsed setting, or a string saying what is wrong with it. */
function parseTrustProxy(raw: string): TrustProxy | string {
  const value = raw.trim().toLowerCase();
  if (value === 'false') return false;
  if (value === 'true') {
    return 'true would believe an X-Forwarded-For written by any client, so anyone could pick their IP and escape per-IP limits; list the addresses/CIDRs of the proxies in front of the API';
  }
  if (/^\d+$/.test(value)) {
    return 'a hop count cannot tell our proxy from a client that connects directly with a forged X-Forwarded-For; list the addresses/CIDRs of the proxies in front of the API';
  }
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.filter((entry) => !PROXY_RANGE_NAMES.has(entry) && !isAddressOrCidr(entry));
  if (entries.length === 0 || bad.length > 0) {
    return `must be false or comma-separated IP addresses/CIDRs of trusted proxies (or loopback, linklocal, uniquelocal); not ${bad.join(', ') || 'empty'}`;
  }
  return entries;
}

function isAddressOrCidr(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** Where stripe-node sends API calls instead of api.stripe.com (its `host`, `port` and `protocol` options). */
export interface StripeApiAddress {
  host: string;
  port: number;
  protocol: 'http' | 'https';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Development-only secrets: fine on a laptop, refused in production.
const DEV_JWT_SECRET = 'dev-only-jwt-secret-change-me-0123456789abcdef';
const DEV_OTP_SECRET = 'dev-only-otp-secret-change-me-0123456789abcdef';

/** Parses the environment once against EnvSchema; throws a ConfigError listing every bad key. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(EnvSchema.properties);
  const raw: Record<string, string> = {};
  for (const key of known) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const value = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw)) as Record<string, unknown>;
  // Checked key by key so every bad key is reported once, with what it accepts.
  const problems: string[] = [];
  for (const [key, schema] of Object.entries(EnvSchema.properties)) {
    if (!Value.Check(schema, value[key])) problems.push(`${key}: ${describeExpected(schema)} (got ${JSON.stringify(raw[key] ?? null)})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const env = value as Env;
  const trustProxy = parseTrustProxy(env.TRUST_PROXY);
  if (typeof trustProxy === 'string') problems.push(`TRUST_PROXY: ${trustProxy} (got ${JSON.stringify(env.TRUST_PROXY)})`);
  const models = parseModels(env);
  problems.push(...checkProductionRules(env), ...checkBillingRules(env), ...checkStorageRules(env), ...models.problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const origins = env.CORS_ORIGINS.trim();
  const publicBaseUrl = (env.PUBLIC_BASE_URL || `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT}`).replace(/\/$/, '');
  return {
    env: env.NODE_ENV,
    http: {
      host: env.HOST,
      port: env.PORT,
      trustProxy: parseTrustProxy(env.TRUST_PROXY) as TrustProxy,
      corsOrigins: origins === '*' ? '*' : origins.split(',').map((o) => o.trim()).filter(Boolean),
      publicBaseUrl,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      importMaxBytes: env.IMPORT_MAX_BYTES,
    },
    logLevel: env.LOG_LEVEL,
    tracing: tracingConfig(source),
    database: {
      url: env.DATABASE_URL,
      listenUrl: env.DATABASE_LISTEN_URL || env.DATABASE_URL,
      ...(env.DATABASE_SCHEMA ? { schema: env.DATABASE_SCHEMA } : {}),
      poolMax: env.DATABASE_POOL_MAX,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX, commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS },
    auth: {
      jwtSecret: env.JWT_SECRET || DEV_JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
      rateLimitPerIp: env.AUTH_RATE_LIMIT_PER_IP,
      rateLimitPerNumber: env.AUTH_RATE_LIMIT_PER_NUMBER,
      apiKeyRateLimitPerMinute: env.API_KEY_RATE_LIMIT_PER_MINUTE,
    },
    otp: {
      secret: env.OTP_SECRET || DEV_OTP_SECRET,
      delivery: env.OTP_DELIVERY,
      ttlSeconds: env.OTP_TTL_SECONDS,
      maxAttempts: env.OTP_MAX_ATTEMPTS,
      resendCooldownSeconds: env.OTP_RESEND_COOLDOWN_SECONDS,
      hourlySendLimit: env.OTP_HOURLY_SEND_LIMIT,
      defaultRegion: env.DEFAULT_PHONE_REGION || undefined,
    },
    chatroomListCacheTtlSeconds: env.CHATROOM_LIST_CACHE_TTL_SECONDS,
    localCacheSeconds: env.LOCAL_CACHE_SECONDS,
    quota: { basic: env.QUOTA_BASIC_DAILY, pro: env.QUOTA_PRO_DAILY },
    messages: { preferWaitMaxSeconds: env.PREFER_WAIT_MAX_SECONDS, sseHeartbeatSeconds: env.SSE_HEARTBEAT_SECONDS },
    shares: { rateLimitPerIp: env.SHARE_RATE_LIMIT_PER_IP },
    gemini: {
      apiKey: env.GEMINI_API_KEY,
      baseUrl: env.GEMINI_BASE_URL || undefined,
      model: env.GEMINI_MODEL,
      models: models.models,
      defaultModel: models.defaultModel,
      modelsCacheSeconds: env.GEMINI_MODELS_CACHE_SECONDS,
      modelsTimeoutMs: env.GEMINI_MODELS_TIMEOUT_MS,
      maxOutputTokens: env.GEMINI_MAX_OUTPUT_TOKENS,
      contextTokenBudget: env.GEMINI_CONTEXT_TOKEN_BUDGET,
      timeoutMs: env.GEMINI_TIMEOUT_MS,
      idleTimeoutMs: env.GEMINI_IDLE_TIMEOUT_MS,
      inlineMaxBytes: env.GEMINI_INLINE_MAX_BYTES,
    },
    files: {
      storage: storageConfig(env),
      maxBytes: env.FILE_MAX_BYTES,
      pdfMaxPages: env.FILE_PDF_MAX_PAGES,
      quotaBytes: { basic: env.STORAGE_QUOTA_BASIC_BYTES, pro: env.STORAGE_QUOTA_PRO_BYTES },
      sweepIntervalSeconds: env.FILES_SWEEP_INTERVAL_SECONDS,
      orphanGraceSeconds: env.FILES_ORPHAN_GRACE_SECONDS,
    },
    billing: billingConfig(env, publicBaseUrl),
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      metricsPort: env.WORKER_METRICS_PORT,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      maxAttempts: env.REPLY_MAX_ATTEMPTS,
      retryBaseDelayMs: env.REPLY_RETRY_BASE_DELAY_MS,
      replyStreamTtlSeconds: env.REPLY_STREAM_TTL_SECONDS,
      sweepIntervalMs: env.SWEEP_INTERVAL_MS,
      sweepPendingAfterSeconds: env.SWEEP_PENDING_AFTER_SECONDS,
      deltaFlushMs: env.REPLY_DELTA_FLUSH_MS,
    },
  };
}

/** For a process's entry point: the config, or every problem printed and exit status 1 (no stack trace). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

function describeExpected(schema: unknown): string {
  const s = schema as { type?: string; anyOf?: Array<{ const?: unknown }>; minimum?: number; maximum?: number };
  if (s.anyOf) return `must be one of ${s.anyOf.map((o) => JSON.stringify(o.const)).join(', ')}`;
  if (s.type === 'integer') {
    const range = [s.minimum !== undefined ? `>= ${s.minimum}` : '', s.maximum !== undefined ? `<= ${s.maximum}` : ''].filter(Boolean);
    return `must be an integer${range.length ? ` ${range.join(' and ')}` : ''}`;
  }
  if (s.type === 'boolean') return 'must be true or false';
  return `must be a ${s.type ?? 'valid value'}`;
}

function checkProductionRules(env: Env): string[] {
  const problems: string[] = [];
  for (const key of ['JWT_SECRET', 'OTP_SECRET'] as const) {
    if (env[key] && env[key].length < 32) problems.push(`${key}: must be at least 32 characters`);
  }
  if (env.NODE_ENV !== 'production') return problems;
  if (!env.JWT_SECRET) problems.push('JWT_SECRET: required in production');
  if (!env.OTP_SECRET) problems.push('OTP_SECRET: required in production');
  // Without either, every reply would fail at Google with an authentication error instead of the process refusing.
  if (!env.GEMINI_API_KEY && !env.GEMINI_BASE_URL) {
    problems.push('GEMINI_API_KEY: required in production (or GEMINI_BASE_URL for a Gemini-compatible endpoint)');
  }
  if (env.OTP_DELIVERY === 'response' && !env.OTP_ALLOW_RESPONSE_DELIVERY_IN_PRODUCTION) {
    problems.push(
      'OTP_DELIVERY: "response" returns codes to any caller; set OTP_DELIVERY=log (or a real channel) in production, ' +
        'or OTP_ALLOW_RESPONSE_DELIVERY_IN_PRODUCTION=true to accept that knowingly',
    );
  }
  return problems;
}

const TIERS: readonly Tier[] = ['basic', 'pro'];
const DEFAULT_MODEL_KEYS = { basic: 'GEMINI_DEFAULT_MODEL_BASIC', pro: 'GEMINI_DEFAULT_MODEL_PRO' } as const;
// Gemini ids and aliases (gemini-3.8-flash, gemini-flash-latest); no `models/` prefix, no spaces.
const MODEL_ID = /^[a-z0-9][a-z0-9._-]*$/i;

/** GEMINI_MODELS and the per-tier defaults, with every problem found (all of them, not just the first). */
function parseModels(env: Env): { models: ConfiguredModel[]; defaultModel: Record<Tier, string>; problems: string[] } {
  const problems: string[] = [];
  const models: ConfiguredModel[] = [];
  if (!env.GEMINI_MODELS.trim()) {
    models.push({ id: env.GEMINI_MODEL, tiers: [...TIERS] });
  } else {
    for (const entry of env.GEMINI_MODELS.split(',').map((part) => part.trim())) {
      const [id = '', tierList, ...rest] = entry.split(':').map((part) => part.trim());
      const fail = (why: string) => problems.push(`GEMINI_MODELS: ${why} (in ${JSON.stringify(entry)})`);
      if (!MODEL_ID.test(id)) {
        fail(entry === '' ? 'an empty entry' : 'a model id is letters, digits, dots, dashes and underscores, without "models/"');
        continue;
      }
      if (rest.length > 0) {
        fail('one colon per entry: id:tier+tier');
        continue;
      }
      const tiers = tierList === undefined ? [...TIERS] : tierList.split('+').map((tier) => tier.trim());
      const unknown = tiers.filter((tier) => !TIERS.includes(tier as Tier));
      if (unknown.length > 0 || tiers.length === 0) {
        fail(`tiers are ${TIERS.join(' and ')}, joined with + (not ${unknown.map((t) => JSON.stringify(t)).join(', ') || 'none'})`);
        continue;
      }
      if (models.some((model) => model.id === id)) {
        fail(`${id} is listed twice`);
        continue;
      }
      models.push({ id, tiers: TIERS.filter((tier) => tiers.includes(tier)) });
    }
  }
  const defaultModel = { basic: env.GEMINI_DEFAULT_MODEL_BASIC || env.GEMINI_MODEL, pro: env.GEMINI_DEFAULT_MODEL_PRO || env.GEMINI_MODEL };
  for (const tier of TIERS) {
    const key = DEFAULT_MODEL_KEYS[tier];
    const id = defaultModel[tier];
    const source = env[key] ? JSON.stringify(id) : `${JSON.stringify(id)} (GEMINI_MODEL, used when ${key} is unset)`;
    const model = models.find((m) => m.id === id);
    if (!model) problems.push(`${key}: ${source} is not in GEMINI_MODELS`);
    else if (!model.tiers.includes(tier)) problems.push(`${key}: ${source} is not open to ${tier} in GEMINI_MODELS`);
  }
  return { models, defaultModel, problems };
}

function billingConfig(env: Env, publicBaseUrl: string): Config['billing'] {
  // Offline default: back to the API docs, where GET /subscription/status shows the result.
  const cancelUrl = env.BILLING_CANCEL_URL || `${publicBaseUrl}/docs/?checkout=cancel`;
  return {
    stripe: env.STRIPE_SECRET_KEY
      ? { secretKey: env.STRIPE_SECRET_KEY, webhookSecret: env.STRIPE_WEBHOOK_SECRET, api: stripeApiAddress(env.STRIPE_API_BASE_URL) }
      : undefined,
    proPriceId: env.STRIPE_PRO_PRICE_ID,
    successUrl: env.BILLING_SUCCESS_URL || `${publicBaseUrl}/docs/?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl,
    portalReturnUrl: env.BILLING_PORTAL_RETURN_URL || cancelUrl,
    pastDueGraceHours: env.BILLING_PAST_DUE_GRACE_HOURS,
    sweepIntervalSeconds: env.BILLING_SWEEP_INTERVAL_SECONDS,
  };
}

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function stripeApiAddress(baseUrl: string): StripeApiAddress | undefined {
  const url = baseUrl ? httpUrl(baseUrl) : undefined;
  if (!url) return undefined;
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443, protocol };
}

function checkBillingRules(env: Env): string[] {
  const problems: string[] = [];
  for (const key of ['STRIPE_API_BASE_URL', 'BILLING_SUCCESS_URL', 'BILLING_CANCEL_URL', 'BILLING_PORTAL_RETURN_URL'] as const) {
    if (env[key] && !httpUrl(env[key])) problems.push(`${key}: must be an absolute http(s) URL`);
  }
  if (!env.STRIPE_SECRET_KEY) return problems;
  // Half a configuration would take payments that never grant Pro.
  if (!env.STRIPE_WEBHOOK_SECRET) problems.push('STRIPE_WEBHOOK_SECRET: required when STRIPE_SECRET_KEY is set');
  if (env.STRIPE_API_BASE_URL && /^(sk|rk)_live_/.test(env.STRIPE_SECRET_KEY)) {
    problems.push('STRIPE_API_BASE_URL: refusing to send a live Stripe key anywhere but api.stripe.com');
  }
  if (env.NODE_ENV === 'production') {
    // Customers must land back in the product, not on the API's docs.
    if (!env.BILLING_SUCCESS_URL) problems.push('BILLING_SUCCESS_URL: required in production when billing is on');
    if (!env.BILLING_CANCEL_URL) problems.push('BILLING_CANCEL_URL: required in production when billing is on');
  }
  return problems;
}

function storageConfig(env: Env): StorageConfig {
  if (env.STORAGE_DRIVER === 'filesystem') return { driver: 'filesystem', dir: env.FILES_DIR };
  return {
    driver: 's3',
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
    endpoint: env.S3_ENDPOINT || undefined,
    credentials: env.S3_ACCESS_KEY_ID ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } : undefined,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
  };
}

function checkStorageRules(env: Env): string[] {
  const problems: string[] = [];
  if (env.S3_ENDPOINT && !httpUrl(env.S3_ENDPOINT)) problems.push('S3_ENDPOINT: must be an absolute http(s) URL');
  if (env.STORAGE_DRIVER !== 's3') return problems;
  if (!env.S3_BUCKET) problems.push('S3_BUCKET: required with STORAGE_DRIVER=s3');
  if (env.S3_ACCESS_KEY_ID && !env.S3_SECRET_ACCESS_KEY) problems.push('S3_SECRET_ACCESS_KEY: required with S3_ACCESS_KEY_ID');
  return problems;
}

function tracingConfig(source: Record<string, string | undefined>): Config['tracing'] {
  const settings = tracingSettingsFromEnv(source, '');
  return settings ? { enabled: true, ...settings } : { enabled: false, exporter: 'none', serviceName: '' };
}

/** The env table for the README, generated from the schema so the docs cannot drift. */
export function describeEnv(): Array<{ key: string; default: string; description: string }> {
  return Object.entries(EnvSchema.properties).map(([key, schema]) => {
    const s = schema as { default?: unknown; description?: string };
    return { key, default: s.default === undefined || s.default === '' ? '' : String(s.default), description: s.description ?? '' };
  });
}
