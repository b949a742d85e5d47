import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AccountService } from '../../services/account.service.js';
import { described, errorCodes, JSON_BODY_CODES, NoContentSchema, TOKEN_CODES } from '../../schemas/common.schemas.js';
import { AccountExportSchema, DeleteAccountBodySchema } from '../../schemas/account.schemas.js';

export const accountRoutes: FastifyPluginAsyncTypebox<{ accounts: AccountService }> = async (app, { accounts }) => {
  const tags = ['User'];

  app.get('/user/me/export', {
    schema: {
      operationId: 'exportAccount',
      summary: 'Download everything the account holds',
      description:
        'One JSON document (a download): the profile, the subscription state, today\'s usage, every chatroom with every ' +
        'message of every branch, and the metadata of every uploaded file.',
      tags,
      response: { 200: described('The account export (a download)', AccountExportSchema), ...errorCodes(TOKEN_CODES, 'USER_NOT_FOUND') },
    },
  }, async (request, reply) => {
    const document = await accounts.exportAccount(request.auth.userId);
    const day = document.exportedAt.slice(0, 10);
    return reply
      .header('content-disposition', `attachment; filename="gemini-chat-account-${day}.json"`)
      .header('cache-control', 'no-store')
      .send(document);
  });

  app.delete('/user/me', {
    schema: {
      operationId: 'deleteAccount',
      summary: 'Delete the account',
      description:
        'Needs a code from POST /auth/send-otp `{ purpose: "delete_account" }`. Cancels the Stripe subscription at once ' +
        '(503 and nothing deleted while Stripe is out of reach), revokes every session and token at once, and releases the ' +
        'mobile number, which can sign up again straight away. Chatrooms, messages, files and every other record of the ' +
        'account are then removed in the background. A wrong or expired code is 400, as at POST /auth/verify-otp.',
      tags,
      body: DeleteAccountBodySchema,
      response: {
        204: described('The account is deleted; its records follow in the background', NoContentSchema),
        ...errorCodes(TOKEN_CODES, JSON_BODY_CODES, 'USER_NOT_FOUND', 'OTP_INVALID', 'OTP_EXPIRED', 'OTP_LOCKED', 'BILLING_NOT_CONFIGURED'),
      },
    },
  }, async (request, reply) => {
    await accounts.deleteAccount(request.auth.userId, request.body.otp);
    return reply.code(204).send(null);
  });
};
