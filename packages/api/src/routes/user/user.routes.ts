import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { UserService } from '../../services/user.service.js';
import { described, errorCodes, JSON_BODY_CODES, TOKEN_CODES } from '../../schemas/common.schemas.js';
import { MeSchema, UpdateMeBodySchema } from '../../schemas/user.schemas.js';

export const userRoutes: FastifyPluginAsyncTypebox<{ users: UserService }> = async (app, { users }) => {
  const tags = ['User'];

  app.get('/user/me', {
    schema: {
      operationId: 'getMe',
      summary: 'The signed-in user and today\'s quota usage',
      description:
        'The profile, the tier (`basic` or `pro`) and `usage`: prompts used today, the daily limit (null on Pro) and when ' +
        'it resets (midnight UTC).',
      tags,
      response: { 200: described('The user and today\'s usage', MeSchema), ...errorCodes(TOKEN_CODES, 'USER_NOT_FOUND') },
    },
  }, async (request, reply) => {
    // Serialised by this route's response schema (to a string) once, when loaded; a repeat read sends it as is.
    const body = await users.meBody(request.auth.userId, (me) => reply.serialize(me) as string);
    return reply.type('application/json; charset=utf-8').send(body as never);
  });

  app.patch('/user/me', {
    schema: {
      operationId: 'updateMe',
      summary: 'Update name or email (null clears)',
      description: 'Only the fields sent change; `null` clears one. The mobile number cannot be changed.',
      tags,
      body: UpdateMeBodySchema,
      response: {
        200: described('The updated user and today\'s usage', MeSchema),
        ...errorCodes(TOKEN_CODES, JSON_BODY_CODES, 'USER_NOT_FOUND'),
      },
    },
  }, async (request) => users.update(request.auth.userId, request.body));
};
