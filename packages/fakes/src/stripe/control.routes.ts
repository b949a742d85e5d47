// `/__fake/...`: the test controls over HTTP, for a fake running in another process (the dev stack, an
// end-to-end run). JSON in, JSON out; each route calls the in-process method of the same name.
import type { ApiFault, ApiMatch } from './api-gate.js';
import type { FakeStripe, ScenarioResult } from './fake-stripe.js';
import { compileRoutes, json, type Reply, type Route } from './http-kit.js';
import { SIGNING_MODES, type ReleaseOrder, type SigningMode } from './webhook-dispatcher.js';

export interface ControlRequest {
  /** The parsed JSON body ({} when empty). */
  body: Record<string, unknown>;
  query: URLSearchParams;
}

export class ControlInputError extends Error {}

function signingOf(body: Record<string, unknown>, key = 'signing'): SigningMode | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(SIGNING_MODES as readonly string[]).includes(value)) {
    throw new ControlInputError(`${key} must be one of ${SIGNING_MODES.join(', ')}`);
  }
  return value as SigningMode;
}

function stringList(value: unknown, name: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new ControlInputError(`${name} must be an array of strings`);
  }
  return value;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value !== undefined && typeof value !== 'string') throw new ControlInputError(`${key} must be a string`);
  return value;
}

function apiMatchOf(body: Record<string, unknown>): ApiMatch {
  const method = optionalString(body, 'method');
  const path = optionalString(body, 'path');
  return { ...(method !== undefined ? { method } : {}), ...(path !== undefined ? { path } : {}) };
}

function apiFaultOf(body: Record<string, unknown>): ApiFault {
  const { status, times, shouldRetry } = body;
  if (typeof status !== 'number' || !Number.isInteger(status)) throw new ControlInputError('status must be an integer');
  if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 1)) {
    throw new ControlInputError('times must be a positive integer');
  }
  if (shouldRetry !== undefined && typeof shouldRetry !== 'boolean') throw new ControlInputError('shouldRetry must be a boolean');
  const type = optionalString(body, 'type');
  if (type !== undefined && !['invalid_request_error', 'idempotency_error', 'api_error', 'card_error'].includes(type)) {
    throw new ControlInputError('type must be one of invalid_request_error, idempotency_error, api_error, card_error');
  }
  const message = optionalString(body, 'message');
  const code = optionalString(body, 'code');
  return {
    ...apiMatchOf(body),
    status,
    ...(type !== undefined ? { type: type as ApiFault['type'] } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(times !== undefined ? { times } : {}),
    ...(shouldRetry !== undefined ? { shouldRetry } : {}),
  };
}

function summary(result: ScenarioResult): Record<string, unknown> {
  return {
    ...result,
    events: result.events.map((event) => ({ id: event.id, type: event.type, created: event.created })),
  };
}

export function createControlRoutes(fake: () => FakeStripe) {
  const ok = (value: unknown): Reply => json(200, value);
  const routes: Route<ControlRequest>[] = [
    { method: 'GET', path: '/__fake/requests', handle: () => ok({ data: fake().requests }) },
    {
      method: 'GET',
      path: '/__fake/events',
      handle: ({ query }) => {
        const type = query.get('type');
        return ok({ data: fake().events.filter((event) => type === null || event.type === type) });
      },
    },
    { method: 'GET', path: '/__fake/deliveries', handle: () => ok({ data: fake().deliveries }) },
    {
      method: 'GET',
      path: '/__fake/webhooks',
      handle: () => {
        const f = fake();
        return ok({
          url: f.webhookEndpoint.url,
          signing: f.signingMode,
          holding: f.holdingWebhooks,
          held: f.heldEvents.map((event) => ({ id: event.id, type: event.type })),
        });
      },
    },
    {
      method: 'POST',
      path: '/__fake/reset',
      handle: () => {
        fake().reset();
        return ok({ reset: true });
      },
    },
    {
      method: 'POST',
      path: '/__fake/checkout/sessions/:id/complete',
      handle: async (_ctx, { id = '' }) => ok(summary(await fake().completeCheckout(id))),
    },
    {
      method: 'POST',
      path: '/__fake/subscriptions/:id/renew',
      handle: async (_ctx, { id = '' }) => ok(summary(await fake().renewSubscription(id))),
    },
    {
      method: 'POST',
      path: '/__fake/subscriptions/:id/fail-payment',
      handle: async (_ctx, { id = '' }) => ok(summary(await fake().failPayment(id))),
    },
    {
      method: 'POST',
      path: '/__fake/subscriptions/:id/cancel',
      handle: async ({ body }, { id = '' }) => {
        if (body.atPeriodEnd !== undefined && typeof body.atPeriodEnd !== 'boolean') {
          throw new ControlInputError('atPeriodEnd must be a boolean');
        }
        return ok(summary(await fake().cancelSubscription(id, { atPeriodEnd: body.atPeriodEnd === true })));
      },
    },
    {
      method: 'POST',
      path: '/__fake/subscriptions/:id/advance-period',
      handle: async (_ctx, { id = '' }) => ok(summary(await fake().advanceToPeriodEnd(id))),
    },
    {
      method: 'POST',
      path: '/__fake/events/:id/redeliver',
      handle: async ({ body }, { id = '' }) => ok({ deliveries: await fake().redeliverEvent(id, { signing: signingOf(body) }) }),
    },
    {
      method: 'POST',
      path: '/__fake/events/deliver',
      handle: async ({ body }) => {
        const ids = stringList(body.eventIds, 'eventIds');
        return ok({ deliveries: await fake().deliverEvents(ids, { signing: signingOf(body) }) });
      },
    },
    {
      method: 'POST',
      path: '/__fake/webhooks/hold',
      handle: () => {
        fake().holdWebhooks();
        return ok({ holding: true });
      },
    },
    {
      method: 'POST',
      path: '/__fake/webhooks/release',
      handle: async ({ body }) => {
        let order: ReleaseOrder | undefined;
        if (body.order === 'generated' || body.order === 'reverse') order = body.order;
        else if (body.order !== undefined) order = stringList(body.order, 'order');
        return ok({ deliveries: await fake().releaseWebhooks({ order, signing: signingOf(body) }) });
      },
    },
    {
      method: 'POST',
      path: '/__fake/webhooks/signing',
      handle: ({ body }) => {
        const mode = signingOf(body, 'mode');
        if (!mode) throw new ControlInputError('mode is required');
        fake().setSigningMode(mode);
        return ok({ signing: mode });
      },
    },
    {
      method: 'POST',
      path: '/__fake/api/hold',
      handle: ({ body }) => {
        fake().holdApi(apiMatchOf(body));
        return ok({ holding: true });
      },
    },
    {
      method: 'POST',
      path: '/__fake/api/release',
      handle: () => {
        fake().releaseApi();
        return ok({ holding: false });
      },
    },
    {
      method: 'GET',
      path: '/__fake/api/held',
      handle: () => ok({ data: fake().heldApiRequests }),
    },
    {
      method: 'POST',
      path: '/__fake/api/faults',
      handle: ({ body }) => {
        fake().failApi(apiFaultOf(body));
        return ok({ scheduled: true });
      },
    },
    {
      method: 'POST',
      path: '/__fake/webhooks/endpoint',
      handle: ({ body }) => {
        if (body.url !== null && typeof body.url !== 'string') throw new ControlInputError('url must be a string or null');
        if (body.secret !== undefined && typeof body.secret !== 'string') throw new ControlInputError('secret must be a string');
        fake().setWebhookEndpoint({ url: body.url, secret: body.secret });
        return ok({ url: body.url });
      },
    },
  ];
  return compileRoutes(routes);
}
