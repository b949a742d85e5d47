import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BillingService } from '../../services/billing.service.js';
import { described, errorCodes, TOKEN_CODES } from '../../schemas/common.schemas.js';
import { BillingPortalSessionSchema, CheckoutSchema, SubscriptionStatusSchema } from '../../schemas/billing.schemas.js';

export const billingRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService }> = async (app, { billing }) => {
  const tags = ['Billing'];

  app.post('/subscribe/pro', {
    schema: {
      operationId: 'subscribePro',
      summary: 'Start a Stripe Checkout for the Pro plan',
      description:
        'Creates a Stripe Checkout Session (subscription mode, the configured Pro price) for the user\'s Stripe customer, ' +
        'or hands back the user\'s still-open one. Send the customer to `checkoutUrl`; Pro applies once Stripe reports the ' +
        'payment (watch GET /subscription/status). 409 ALREADY_SUBSCRIBED when the user already has Pro (or a plan with an ' +
        'unpaid invoice: use the portal); 503 BILLING_NOT_CONFIGURED when this server takes no payments.',
      tags,
      response: {
        201: described('The Checkout Session: send the customer to checkoutUrl', CheckoutSchema),
        ...errorCodes(TOKEN_CODES, 'USER_NOT_FOUND', 'ALREADY_SUBSCRIBED', 'BILLING_NOT_CONFIGURED'),
      },
    },
  }, async (request, reply) => reply.code(201).send(await billing.subscribePro(request.auth.userId)));

  app.get('/subscription/status', {
    schema: {
      operationId: 'getSubscriptionStatus',
      summary: 'The user\'s tier, subscription and today\'s quota',
      description:
        'The tier as the quota applies it now, the Stripe subscription behind it (status, period end, whether it cancels ' +
        'at period end) and today\'s usage. Works when the server takes no payments too (always basic then).',
      tags,
      response: { 200: described('The tier, subscription and usage', SubscriptionStatusSchema), ...errorCodes(TOKEN_CODES, 'USER_NOT_FOUND') },
    },
  }, async (request) => billing.status(request.auth.userId));

  app.post('/subscription/portal', {
    schema: {
      operationId: 'createBillingPortalSession',
      summary: 'A Stripe Billing Portal link to manage or cancel the plan',
      description:
        'A one-time link to Stripe\'s Billing Portal for the user\'s Stripe customer: change the card, see invoices, ' +
        'cancel. 409 NO_BILLING_ACCOUNT until the user has started a checkout once; 503 BILLING_NOT_CONFIGURED when this ' +
        'server takes no payments.',
      tags,
      response: {
        201: described('The portal link', BillingPortalSessionSchema),
        ...errorCodes(TOKEN_CODES, 'USER_NOT_FOUND', 'NO_BILLING_ACCOUNT', 'BILLING_NOT_CONFIGURED'),
      },
    },
  }, async (request, reply) => reply.code(201).send(await billing.portal(request.auth.userId)));
};
