import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { described, errorCodes, PUBLIC_CODES } from '../../schemas/common.schemas.js';

const CheckSchema = Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]);
const ReadySchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
    checks: Type.Object({ postgres: CheckSchema, redis: CheckSchema }, { additionalProperties: false }),
  },
  { 'x-component-name': 'Readiness', additionalProperties: false },
);

export interface ReadinessProbe {
  postgres(): Promise<void>;
  redis(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 2000;

/** Resolves 'ok' or 'unavailable' within PROBE_TIMEOUT_MS, whatever the dependency does. */
async function probe(check: () => Promise<void>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'unavailable'>((resolve) => {
    timer = setTimeout(() => resolve('unavailable'), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().then(() => 'ok' as const, () => 'unavailable' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Probes answer from the process alone: a dependency outage is /ready's 503 body, never a SERVICE_UNAVAILABLE problem.
const PROBE_CODES = PUBLIC_CODES.filter((code) => code !== 'SERVICE_UNAVAILABLE');

export const healthRoutes: FastifyPluginAsyncTypebox<{ readiness: ReadinessProbe }> = async (app, { readiness }) => {
  const tags = ['Operations'];

  app.get('/health', {
    schema: {
      operationId: 'health',
      summary: 'Liveness: the process is up',
      description: 'Answers without touching any dependency: for a liveness probe. Readiness is GET /ready.',
      tags,
      response: { 200: described('The process is up', Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false })), ...errorCodes(PROBE_CODES) },
    },
  }, async () => ({ status: 'ok' as const }));

  app.get('/ready', {
    schema: {
      operationId: 'ready',
      summary: 'Readiness: Postgres and Redis are reachable',
      description: '503 (with Retry-After) while a dependency is unreachable; the probe never hangs.',
      tags,
      response: {
        200: described('Postgres and Redis answer', ReadySchema),
        503: described('A dependency does not answer (see checks)', ReadySchema),
        ...errorCodes(PROBE_CODES),
      },
    },
  }, async (_request, reply) => {
    const [postgres, redis] = await Promise.all([probe(readiness.postgres), probe(readiness.redis)]);
    const ok = postgres === 'ok' && redis === 'ok';
    if (!ok) reply.code(503).header('retry-after', '5');
    return { status: ok ? ('ok' as const) : ('unavailable' as const), checks: { postgres, redis } };
  });
};
