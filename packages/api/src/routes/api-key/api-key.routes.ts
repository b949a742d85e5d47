import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiKeyService } from '../../services/api-key.service.js';
import { described, errorCodes, JSON_BODY_CODES, NoContentSchema, TOKEN_CODES } from '../../schemas/common.schemas.js';
import { ApiKeyListSchema, ApiKeyParamsSchema, CreateApiKeyBodySchema, CreatedApiKeySchema } from '../../schemas/api-key.schemas.js';

// Managing keys needs an access token (these routes do not opt in to `apiKey`): a leaked key must not be able to
// mint more keys or keep itself alive.
export const apiKeyRoutes: FastifyPluginAsyncTypebox<{ apiKeys: ApiKeyService }> = async (app, { apiKeys }) => {
  const tags = ['API keys'];

  app.post('/user/api-keys', {
    schema: {
      operationId: 'createApiKey',
      summary: 'Create an API key (the key is in this response only)',
      description:
        'The key (`gck_…`) is shown in this response only: store it then. Send it as `Authorization: Bearer gck_…` on the ' +
        'routes that list apiKeyAuth (chatrooms, messages, files, search, models); elsewhere it is 403 API_KEY_NOT_ALLOWED. ' +
        'Managing keys needs an access token. At most 10 keys that have not expired at once (409 API_KEY_LIMIT_REACHED).',
      tags,
      body: CreateApiKeyBodySchema,
      response: {
        201: described('The new key, with the secret shown this once', CreatedApiKeySchema),
        ...errorCodes(TOKEN_CODES, JSON_BODY_CODES, 'USER_NOT_FOUND', 'API_KEY_LIMIT_REACHED'),
      },
    },
  }, async (request, reply) => reply.code(201).send(await apiKeys.create(request.auth.userId, request.body)));

  app.get('/user/api-keys', {
    schema: {
      operationId: 'listApiKeys',
      summary: 'The user\'s API keys (never the keys themselves)',
      description: 'Each key\'s name, prefix, expiry and last use; revoked keys are not listed.',
      tags,
      response: { 200: described('The user\'s keys', ApiKeyListSchema), ...errorCodes(TOKEN_CODES) },
    },
  }, async (request) => apiKeys.list(request.auth.userId));

  app.delete('/user/api-keys/:id', {
    schema: {
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key: refused at once on every API instance',
      description: 'From the moment this returns, the key answers 401 INVALID_API_KEY everywhere. An unknown id is 404 API_KEY_NOT_FOUND.',
      tags,
      params: ApiKeyParamsSchema,
      response: { 204: described('Revoked', NoContentSchema), ...errorCodes(TOKEN_CODES, 'VALIDATION_FAILED', 'API_KEY_NOT_FOUND') },
    },
  }, async (request, reply) => {
    await apiKeys.revoke(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
