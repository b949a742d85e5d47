import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BillingService } from '../../services/billing.service.js';
import { described, errorCodes, PUBLIC_CODES } from '../../schemas/common.schemas.js';
import { StripeEventBodySchema, StripeWebhookHeadersSchema, WebhookAckSchema } from '../../schemas/billing.schemas.js';

// Stripe events are a few kB; a whole Checkout Session with expansions stays far below this.
const WEBHOOK_BODY_LIMIT_BYTES = 512 * 1024;

/** Register as its own plugin: the raw-body JSON parser below must not leak to the rest of the API. */
export const stripeWebhookRoutes: FastifyPluginAsyncTypebox<{ billing: BillingService }> = async (app, { billing }) => {
  // The signature covers the exact bytes Stripe sent, so in this scope JSON stays a Buffer (parsing and
  // re-serialising would change them). Every other route keeps Fastify's JSON parser.
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, (_request, body, done) =>
    done(null, body),
  );

  app.post('/webhook/stripe', {
    bodyLimit: WEBHOOK_BODY_LIMIT_BYTES,
    schema: {
      operationId: 'receiveStripeWebhook',
      summary: 'Stripe webhook endpoint (called by Stripe, not by clients)',
      description:
        'Verifies `Stripe-Signature` over the raw body (400 WEBHOOK_SIGNATURE_INVALID otherwise, nothing stored). Each ' +
        'event id is handled once: a redelivery is acknowledged and does nothing. Subscription, invoice and checkout ' +
        'events re-fetch the subscription from Stripe and store its current state, so any delivery order converges. ' +
        '503 when Stripe cannot be reached (Stripe delivers again later).',
      tags: ['Billing'],
      headers: StripeWebhookHeadersSchema,
      body: StripeEventBodySchema,
      response: {
        200: described('The event is handled (or was already)', WebhookAckSchema),
        // The body stays raw bytes here, so there is no JSON to fail; a body in another media type is refused.
        ...errorCodes(PUBLIC_CODES, 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'WEBHOOK_SIGNATURE_INVALID', 'BILLING_NOT_CONFIGURED'),
      },
    },
  }, async (request) => {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    await billing.handleWebhook(raw, request.headers['stripe-signature']);
    return { received: true as const };
  });
};
