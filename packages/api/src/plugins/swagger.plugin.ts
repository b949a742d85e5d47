import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

type Json = Record<string, unknown>;

const NAME = 'x-component-name';

/**
 * Route schemas are written inline. A sub-schema carrying an `$id` (Chatroom, Problem, ...) is a named type:
 * `markNamedSchemas` (per route, before @fastify/swagger converts it) turns the `$id` into a marker, and
 * `hoistNamedSchemas` (on the finished document) lifts each marked schema into `components.schemas` behind a
 * `$ref`, so the spec and the generated SDK get named types.
 */
function markNamedSchemas(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(markNamedSchemas);
  if (!node || typeof node !== 'object') return node;
  const { $id, ...rest } = node as Json;
  const walked = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, markNamedSchemas(v)]));
  return typeof $id === 'string' ? { ...walked, [NAME]: $id } : walked;
}

export function hoistNamedSchemas(spec: Json): Json {
  const named = (((spec.components ??= {}) as Json).schemas ?? {}) as Record<string, unknown>;
  const visit = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(visit);
    if (!node || typeof node !== 'object') return node;
    const { [NAME]: name, ...rest } = node as Json;
    const walked = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, visit(v)]));
    if (typeof name !== 'string') return walked;
    named[name] = walked;
    return { $ref: `#/components/schemas/${name}` };
  };
  spec.paths = visit(spec.paths);
  (spec.components as Json).schemas = named;
  return spec;
}

export const swaggerPlugin = fp(async (app: FastifyInstance, opts: { serverUrl?: string }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gemini Chat API',
        version: '1.0.0',
        description:
          'OTP sign-in, chatrooms, Gemini replies produced by a queue worker, daily quota and a Stripe Pro tier. ' +
          'Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.',
      },
      ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
      tags: [
        { name: 'Auth', description: 'Sign-up, OTP, passwords and tokens' },
        { name: 'User', description: 'The signed-in user' },
        { name: 'Chatrooms', description: 'Conversations' },
        { name: 'Operations', description: 'Health, readiness' },
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    hideUntagged: true,
    transform: ({ schema, url }) => ({ schema: markNamedSchemas(schema) as typeof schema, url }),
    transformObject: (documentObject) =>
      hoistNamedSchemas(('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject) as Json) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true, displayRequestDuration: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
