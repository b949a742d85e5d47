import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { tooManyRequests } from '@gemini-chat/shared';

export interface LimiterOptions {
  /** Namespace under the app's Redis prefix; limiters sharing one share their counters. */
  name: string;
  max: number;
  timeWindowMs: number;
  keyGenerator: (request: FastifyRequest) => string;
  message: string;
}

/**
 * A preHandler enforcing one fixed-window limit in Redis (shared by every API instance). Each limiter gets its
 * own plugin registration because @fastify/rate-limit runs at most one limiter of a registration per request,
 * and auth routes need two (per IP and per mobile number).
 */
export async function createLimiter(app: FastifyInstance, redis: Redis, keyPrefix: string, opts: LimiterOptions) {
  let hook: preHandlerAsyncHookHandler | undefined;
  await app.register(async (scope) => {
    await scope.register(rateLimit, {
      global: false,
      redis,
      nameSpace: `${keyPrefix}rate-limit:${opts.name}:`,
      skipOnError: false, // Redis down: the error handler answers 503 rather than letting brute force through
      enableDraftSpec: true,
      errorResponseBuilder: (_request, context) =>
        tooManyRequests('RATE_LIMITED', opts.message, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
    hook = scope.rateLimit({ max: opts.max, timeWindow: opts.timeWindowMs, keyGenerator: opts.keyGenerator });
  });
  if (!hook) throw new Error(`rate limiter ${opts.name} was not created`);
  return hook;
}
