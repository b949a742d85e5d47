import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { DOCS_INTRO } from './docs-intro.js';

type Json = Record<string, unknown>;

/**
 * Route schemas are written inline. A schema carrying `x-component-name` (Chatroom, Problem, ...) is a named type:
 * `hoistNamedSchemas` lifts each into `components.schemas` behind a `$ref`, so the spec and the generated SDK get
 * named types. (A marker rather than `$id`: Fastify's validator and serializer refuse one `$id` used twice in a
 * route, as in a result holding two Messages.)
 */
/**
 * @fastify/swagger marks every request body required. A route whose body may be left out (it fills in `{}` before
 * validation) says so with `'x-optional-body': true` in its schema: its request body is then not required.
 */
function optionalBodies(document: Json): Json {
  const paths = (document as { paths?: Record<string, Record<string, Record<string, unknown>>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      if (!operation || typeof operation !== 'object' || !('x-optional-body' in operation)) continue;
      delete operation['x-optional-body'];
      const body = operation.requestBody as { required?: boolean } | undefined;
      if (body) body.required = false;
    }
  }
  return document;
}

export const NAME = 'x-component-name';

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
        description: DOCS_INTRO,
      },
      ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
      tags: [
        { name: 'Auth', description: 'Sign-up, OTP, passwords and tokens' },
        { name: 'User', description: 'The signed-in user' },
        { name: 'API keys', description: 'Keys for server-side clients, in place of an access token on the routes that accept them' },
        { name: 'Models', description: 'The Gemini models a caller may choose' },
        { name: 'Chatrooms', description: 'Conversations' },
        { name: 'Files', description: 'Uploaded files (images, PDFs, text, audio) to attach to prompts' },
        { name: 'Search', description: 'Full-text search over the user\'s chatroom titles and messages' },
        { name: 'Messages', description: 'Prompts and the replies Gemini generates for them' },
        { name: 'Shares', description: 'Read-only links to a copy of a conversation, and the public page behind them' },
        { name: 'Billing', description: 'The Pro plan through Stripe Checkout, its status, and Stripe\'s webhooks' },
        { name: 'Operations', description: 'Health, readiness' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKeyAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'gck_…',
            description: 'An API key from POST /user/api-keys, on the routes that list this scheme; elsewhere 403 API_KEY_NOT_ALLOWED.',
          },
        },
      },
    },
    hideUntagged: true,
    transformObject: (documentObject) =>
      optionalBodies(
        hoistNamedSchemas(('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject) as Json),
      ) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true, displayRequestDuration: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
});
