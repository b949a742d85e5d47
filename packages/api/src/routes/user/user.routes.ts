import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { UserService } from '../../services/user.service.js';
import { bodyProblems, problems, protectedProblems } from '../../schemas/common.schemas.js';
import { MeSchema, UpdateMeBodySchema } from '../../schemas/user.schemas.js';

export const userRoutes: FastifyPluginAsyncTypebox<{ users: UserService }> = async (app, { users }) => {
  const tags = ['User'];

  app.get('/user/me', {
    schema: {
      operationId: 'getMe',
      summary: 'The signed-in user and today\'s quota usage',
      tags,
      response: { 200: MeSchema, ...protectedProblems },
    },
  }, async (request) => users.me(request.auth.userId));

  app.patch('/user/me', {
    schema: {
      operationId: 'updateMe',
      summary: 'Update name or email (null clears)',
      tags,
      body: UpdateMeBodySchema,
      response: { 200: MeSchema, ...protectedProblems, ...bodyProblems, ...problems(404) },
    },
  }, async (request) => users.update(request.auth.userId, request.body));
};
