import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ModelService } from '../../services/model.service.js';
import { described, errorCodes, TOKEN_OR_KEY_CODES } from '../../schemas/common.schemas.js';
import { ModelListSchema } from '../../schemas/model.schemas.js';

export const modelRoutes: FastifyPluginAsyncTypebox<{ models: ModelService }> = async (app, { models }) => {
  app.get('/models', {
    config: { apiKey: true },
    schema: {
      operationId: 'listModels',
      summary: 'The models the caller\'s tier may use, and its default',
      description:
        'The configured allow-list for the caller\'s tier, described from Gemini\'s model list (cached in each API process). When Gemini cannot be reached the list still answers, with null token limits.',
      tags: ['Models'],
      response: { 200: described('The models the caller may choose, and the default', ModelListSchema), ...errorCodes(TOKEN_OR_KEY_CODES) },
    },
  }, async (request) => models.list(request.auth.tier));
};
