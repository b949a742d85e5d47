import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler';
import cors from '@fastify/cors';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  createChatroomListCache,
  createJobProducer,
  createReplyEvents,
  createReplyNotifications,
  createDb,
  createQuota,
  createRedis,
  closeRedis,
  createStore,
  createStorage,
  badRequest,
  redisKeys,
  traceLogFields,
  waitForRedis,
  type ActiveApiKey,
  type ActiveSession,
  type CachedPage,
  type ChatroomListCache,
  type Config,
} from '@gemini-chat/shared';
import { authPlugin } from './plugins/auth.plugin.js';
import { clientErrorHandler, errorsPlugin, frameworkErrors } from './plugins/errors.plugin.js';
import { createApiMetrics, metricsPlugin } from './plugins/metrics.plugin.js';
import { swaggerPlugin } from './plugins/swagger.plugin.js';
import { tracingPlugin } from './plugins/tracing.plugin.js';
import { createLimiter } from './plugins/rate-limit.js';
import { buildSerializerPerSchema } from './lib/serializer-compiler.js';
import { apiKeyRoutes } from './routes/api-key/api-key.routes.js';
import { authRoutes } from './routes/auth/auth.routes.js';
import { billingRoutes } from './routes/billing/billing.routes.js';
import { stripeWebhookRoutes } from './routes/billing/stripe-webhook.routes.js';
import { chatroomRoutes } from './routes/chatroom/chatroom.routes.js';
import { exportRoutes } from './routes/export/export.routes.js';
import { fileRoutes } from './routes/file/file.routes.js';
import { healthRoutes } from './routes/health/health.routes.js';
import { messageRoutes } from './routes/message/message.routes.js';
import { modelRoutes } from './routes/model/model.routes.js';
import { searchRoutes } from './routes/search/search.routes.js';
import { publicShareRoutes, shareRoutes } from './routes/share/share.routes.js';
import { userRoutes } from './routes/user/user.routes.js';
import { createApiKeyService } from './services/api-key.service.js';
import { accountRoutes } from './routes/user/account.routes.js';
import { createAccountService } from './services/account.service.js';
import { createAuthService } from './services/auth.service.js';
import { createBillingService, startBillingSweep } from './services/billing.service.js';
import { createChatroomService } from './services/chatroom.service.js';
import { createExportService } from './services/export.service.js';
import { createFileService } from './services/file.service.js';
import { createMessageService } from './services/message.service.js';
import { createModelService } from './services/model.service.js';
import { createReplyStreamService } from './services/reply-stream.service.js';
import { createSearchService } from './services/search.service.js';
import { createShareService } from './services/share.service.js';
import { createGeminiModelCatalog, createGeminiModelsClient } from './lib/gemini-models.js';
import { createLocalCache, redisChannelFeed } from './lib/local-cache.js';
import { createPostgresChanges } from './lib/postgres-changes.js';
import { USER_PAGES_MAX_CHARS, type CachedBody } from './lib/user-pages.js';
import { createApiKeyCache } from './lib/api-keys.js';
import { createSessionCache } from './lib/session-cache.js';
import { createOtpDelivery } from './lib/otp-delivery.js';
import { createOtpService } from './services/otp.service.js';
import { createStripeClient } from './lib/stripe-client.js';
import { createUserService } from './services/user.service.js';

export interface BuildAppOptions {
  config: Config;
  /** Override the logger (tests pass false). */
  logger?: FastifyServerOptions['logger'];
  /** Build the routes without connecting anywhere (used to emit openapi.json). */
  specOnly?: boolean;
}

const REDIS_STARTUP_WAIT_MS = 3000;

const ajvCompilers = AjvCompiler();
/**
 * Query strings, path parameters and headers arrive as text, so they are coerced to their schema's types; JSON
 * bodies already carry types, and coercing them would store `{"title": 12345}` as "12345" or `["x"]` as "x".
 */
const buildValidatorWithoutBodyCoercion: ValidatorFactory = (externalSchemas, options) => {
  const coercing = ajvCompilers(externalSchemas, options);
  const exact = ajvCompilers(externalSchemas, { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } } as typeof options);
  return (route) => (route.httpPart === 'body' ? exact : coercing)(route);
};
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'];

/** Builds the API (no listen): plugins, services, routes. Owns its Postgres pool and Redis client. */
export async function buildApp({ config, logger, specOnly = false }: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["stripe-signature"]'],
      // The trace and span ids on every line, when tracing is on.
      ...(config.tracing.enabled ? { mixin: traceLogFields } : {}),
    },
    trustProxy: config.http.trustProxy,
    bodyLimit: config.http.bodyLimitBytes,
    // Echo a sane client-supplied X-Request-Id, otherwise mint one; it is in every log line and response.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: {
      // Reject unknown body fields (Fastify's default silently strips them) and list every problem at once.
      customOptions: { removeAdditional: false, allErrors: true, coerceTypes: 'array', useDefaults: true },
    },
    schemaController: { compilersFactory: { buildValidator: buildValidatorWithoutBodyCoercion, buildSerializer: buildSerializerPerSchema } },
    return503OnClosing: true,
    // Clients written for the brief call `/chatroom/`: every path answers the same with or without a final slash.
    routerOptions: { ignoreTrailingSlash: true },
    // What is refused before routing (malformed URL, over-long path parameter) or by Node's HTTP parser (headers
    // over 16 kB, malformed HTTP) leaves as a problem too, not as Fastify's default JSON: see errors.plugin.ts.
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const db = createDb(config.database, app.log);
  const redis = createRedis(config.redis, { kind: 'command', name: 'api', logger: app.log, lazyConnect: true });
  // Pub/sub needs a connection of its own; it waits for Redis rather than failing fast.
  const subscriber = createRedis(config.redis, { kind: 'blocking', name: 'api-subscriber', logger: app.log, lazyConnect: true });
  const keys = redisKeys(config.redis.keyPrefix);
  const jobs = createJobProducer(config.redis, config.worker.maxAttempts, app.log);
  const replyEvents = createReplyEvents(redis, config);
  const notifications = createReplyNotifications(subscriber, replyEvents.channel);
  const store = createStore(db);
  // In-process copies of what nearly every request reads, kept exact by announcements over Redis pub/sub.
  const localCache = { ttlSeconds: config.localCacheSeconds, maxEntries: 50_000, log: app.log };
  const onRedis = (channel: string) => redisChannelFeed({ subscriber, publisher: redis, channel, log: app.log });
  const sessions = createSessionCache(
    createLocalCache<ActiveSession>({ ...localCache, feeds: [onRedis(keys.sessionChanges)], expiresAt: (s) => s.expiresAt.getTime() }),
    (sessionId, userId) => store.sessions.findActive(sessionId, userId),
  );
  // On the sessions' channel: whatever drops a user's sessions on every process drops their keys too.
  const apiKeyCache = createApiKeyCache(
    createLocalCache<ActiveApiKey>({
      ...localCache,
      feeds: [onRedis(keys.sessionChanges)],
      expiresAt: (k) => k.expiresAt?.getTime() ?? Infinity,
    }),
    store.apiKeys,
    (err) => app.log.warn({ err }, 'recording an API key\'s last use failed'),
  );
  const listPages = createLocalCache<CachedPage>({ ...localCache, feeds: [onRedis(keys.chatroomListChanges)] });
  // GET /chatroom/:id and GET /user/me as sent, per user. The database announces every change of a user's rows
  // (triggers, whoever writes), the quota's scripts every change of a count: no writer has to remember to.
  const postgresChanges = createPostgresChanges(config.database, app.log);
  const userPages = createLocalCache<CachedBody>({
    ...localCache,
    feeds: [postgresChanges, onRedis(keys.quotaChanges)],
    maxSize: { total: USER_PAGES_MAX_CHARS, sizeOf: (page) => page.body.length },
    expiresAt: (page) => page.expiresAt,
  });
  // This process's own writes need no hop: a user's request that may have written drops their pages here before
  // its response leaves (so the client reads its write on this instance), and bumps the cache's generation so a
  // read that raced the write is not kept.
  app.addHook('onSend', (request, _reply, payload, done) => {
    const userId = (request.auth as { userId: string } | null)?.userId;
    if (userId !== undefined && request.method !== 'GET' && request.method !== 'HEAD') userPages.forget(userId);
    done(null, payload);
  });
  if (!specOnly) {
    redis.connect().catch(() => {}); // failures are logged by the client and retried for ever
    subscriber.connect().catch(() => {});
    if (config.localCacheSeconds > 0) postgresChanges.start();
    notifications.start().catch((err: unknown) => app.log.warn({ err }, 'reply notifications: subscribe failed'));
    // Give Redis a moment so the first requests do not fail needlessly; if it is down we start anyway (503s).
    await waitForRedis(redis, REDIS_STARTUP_WAIT_MS);
  }
  const storage = createStorage(config.files.storage);
  app.addHook('onClose', async () => {
    await jobs.close();
    await Promise.allSettled([db.destroy(), notifications.close(), closeRedis(redis), storage.close(), postgresChanges.close()]);
  });

  const quota = createQuota(redis, keys, config.quota, store.messages);
  const sharedListCache = createChatroomListCache(redis, keys, config.chatroomListCacheTtlSeconds);
  const listCache: ChatroomListCache = {
    ...sharedListCache,
    // forget() announces the change to every process; this one drops its copy at once, whatever happens.
    async forget(userId) {
      try {
        await sharedListCache.forget(userId);
      } finally {
        listPages.forget(userId);
      }
    },
  };

  // JSON only: a text/plain body would otherwise reach validation as a string and get a confusing 400.
  app.removeContentTypeParser('text/plain');

  // Per-request hooks take Fastify's callback form: an async hook costs a promise and a microtask turn on every
  // request, for work that never waits.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Aborted when the server starts closing. Node's server.close() keeps waiting on a kept-alive connection that was
  // busy when the close began, until the client closes it (a minute or more): the response to a request still in
  // flight then says the connection closes. Reply streams and waited sends end on it too (message routes).
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing.signal.aborted) reply.header('connection', 'close');
    done(null, payload);
  });

  const metrics = createApiMetrics(jobs.queue);
  await app.register(errorsPlugin, { strictCodes: config.env === 'test' });
  if (config.tracing.enabled) await app.register(tracingPlugin, { sampler: config.tracing.sampler ?? { parentBased: true, ratio: 1 } });
  await app.register(metricsPlugin, { metrics });
  // The CORS plugin answers a preflight without Origin or Access-Control-Request-Method in plain text; refuse it
  // first, as a problem like every other error.
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.method === 'OPTIONS' && (!request.headers.origin || !request.headers['access-control-request-method'])) {
      done(badRequest('INVALID_PREFLIGHT', 'A CORS preflight needs the Origin and Access-Control-Request-Method headers.'));
      return;
    }
    done();
  });
  await app.register(cors, {
    origin: config.http.corsOrigins === '*' ? true : config.http.corsOrigins,
    // Every method the API serves (a test compares this with the spec), or browsers on another origin cannot use it.
    methods: CORS_METHODS,
    // Joined once here: given as a list, the plugin joins it again for every response.
    exposedHeaders: [
      'x-request-id',
      'etag',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'location',
      'content-disposition',
      'content-range',
      'accept-ranges',
    ].join(', '),
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-none-match', 'last-event-id', 'prefer', 'range', 'x-request-id'],
    maxAge: 600,
  });
  await app.register(swaggerPlugin, { serverUrl: config.http.publicBaseUrl });
  await app.register(authPlugin, { config: config.auth, sessions, apiKeys: apiKeyCache });

  const otp = createOtpService(store, config.otp, createOtpDelivery(config.otp.delivery, app.log));
  const auth = createAuthService({ store, otp, config, sessions, signAccessToken: (claims) => app.signAccessToken(claims) });
  const users = createUserService(store, quota, userPages);
  const apiKeys = createApiKeyService(store, apiKeyCache);
  const stripe = createStripeClient(config.billing);
  const billing = createBillingService({ store, quota, sessions, stripe, config: config.billing, log: app.log });
  const accounts = createAccountService({ store, otp, users, billing, stripe, jobs, sessions, log: app.log });
  if (!specOnly) {
    const sweep = startBillingSweep(billing, config.billing.sweepIntervalSeconds, app.log);
    app.addHook('onClose', async () => sweep.stop());
  }
  const files = createFileService({ store, storage, config: config.files, log: app.log });
  const chatrooms = createChatroomService(store, listCache, listPages, replyEvents, app.log, config.gemini, files.deleteObjects, userPages);
  const messages = createMessageService({
    store,
    quota,
    listCache,
    jobs,
    notifications,
    replyEvents,
    log: app.log,
    models: config.gemini,
    onQuotaRejected: () => metrics.quotaRejections.inc(),
  });
  const geminiModels = createGeminiModelCatalog({
    client: createGeminiModelsClient(config.gemini),
    ttlMs: config.gemini.modelsCacheSeconds * 1000,
    timeoutMs: config.gemini.modelsTimeoutMs,
    log: app.log,
  });
  app.addHook('onClose', async () => geminiModels.close());
  const models = createModelService(config.gemini, geminiModels);
  const replyStreams = createReplyStreamService({
    store,
    replyEvents,
    notifications,
    heartbeatMs: config.messages.sseHeartbeatSeconds * 1000,
  });

  await app.register(healthRoutes, {
    readiness: { postgres: () => store.ping(), redis: async () => void (await redis.ping()) },
  });
  await app.register(authRoutes, { auth, redis, config });
  await app.register(stripeWebhookRoutes, { billing }); // signed by Stripe, not bearer-authenticated
  const shares = createShareService(store, config.http.publicBaseUrl);
  // Share links are public: anyone with a link reads it, without a token.
  await app.register(publicShareRoutes, { shares, redis, keyPrefix: config.redis.keyPrefix, rateLimitPerIp: config.shares.rateLimitPerIp });
  // Everything registered in this scope requires a valid bearer token.
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      // A route that opts in with `config: { apiKey: true }` accepts an API key as well as an access token.
      const security: Record<string, string[]>[] = route.config?.apiKey === true ? [{ bearerAuth: [] }, { apiKeyAuth: [] }] : [{ bearerAuth: [] }];
      route.schema = { ...route.schema, security };
    });
    scope.addHook('onRequest', scope.authenticate);
    // Each key has a budget of its own (across every API instance), so one runaway script cannot starve its
    // user's other clients of the API; the daily prompt quota stays the user's, whatever the credential.
    const perApiKey = await createLimiter(scope, redis, config.redis.keyPrefix, {
      name: 'api-key',
      max: config.auth.apiKeyRateLimitPerMinute,
      timeWindowMs: 60_000,
      keyGenerator: (request) => request.auth.apiKeyId ?? '',
      message: 'Too many requests with this API key; slow down.',
    });
    scope.addHook('onRequest', function (request, reply, done) {
      if (request.auth.apiKeyId === undefined) return done();
      perApiKey.call(this, request, reply).then(() => done(), done);
    });
    await scope.register(userRoutes, { users });
    await scope.register(apiKeyRoutes, { apiKeys });
    await scope.register(accountRoutes, { accounts });
    await scope.register(chatroomRoutes, { chatrooms });
    await scope.register(exportRoutes, {
      exports: createExportService({ store, listCache, log: app.log, models: config.gemini }),
      importMaxBytes: config.http.importMaxBytes,
    });
    await scope.register(fileRoutes, { files, maxBytes: config.files.maxBytes });
    await scope.register(modelRoutes, { models });
    await scope.register(billingRoutes, { billing });
    await scope.register(shareRoutes, { shares });
    await scope.register(messageRoutes, {
      messages,
      closing: closing.signal,
      replyStreams,
      preferWaitMaxSeconds: config.messages.preferWaitMaxSeconds,
      streamsOpen: metrics.replyStreamsOpen,
    });
    await scope.register(searchRoutes, { search: createSearchService(store) });
  });

  return app;
}
