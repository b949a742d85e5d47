import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiKeyService } from '../../services/api-key.service.js';
import { bodyProblems, NoContentSchema, problems, protectedProblems } from '../../schemas/common.schemas.js';
import { ApiKeyListSchema, ApiKeyParamsSchema, CreateApiKeyBodySchema, CreatedApiKeySchema } from '../../schemas/api-key.schemas.js';

// Managing keys needs an access token (these routes do not opt in to `apiKey`): a leaked key must not be able to
// mint more keys or keep itself alive.
export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ apiKeys: ApiKeyService }> = async (app, { apiKeys }) => {
  const tags = ['API keys'];

  app.post('/user/api-keys', {
    schema: {
      operationId: 'createApiKey',
      summary: 'Create an API key (the key is in this response only)',
      description: 'At most 10 keys that have not expired at once (409 API_KEY_LIMIT_REACHED).',
      tags,
      body: CreateApiKeyBodySchema,
      response: { 201: CreatedApiKeySchema, ...protectedProblems, ...bodyProblems, ...problems(403, 409) },
    },
  }, async (request, reply) => reply.code(201).send(await apiKeys.create(request.auth.userId, request.body)));

  app.get('/user/api-keys', {
    schema: {
      operationId: 'listApiKeys',
      summary: 'The user\'s API keys (never the keys themselves)',
      tags,
      response: { 200: ApiKeyListSchema, ...protectedProblems, ...problems(403) },
    },
  }, async (request) => apiKeys.list(request.auth.userId));

  app.delete('/user/api-keys/:id', {
    schema: {
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key: refused at once on every API instance',
      tags,
      params: ApiKeyParamsSchema,
      response: { 204: NoContentSchema, ...protectedProblems, ...problems(403, 404) },
    },
  }, async (request, reply) => {
    await apiKeys.revoke(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
