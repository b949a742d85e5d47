import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectProblem, post, randomMobileNumber, signIn, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ BODY_LIMIT_BYTES: '2048' });
});
afterAll(() => t.close());

describe('problem responses', () => {
  it('lists every field problem of an invalid body', async () => {
    const res = await post(t.app, '/auth/signup', { email: 'not-an-email', password: 'short' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body).toMatchObject({ type: expect.stringContaining('validation-failed'), title: 'Bad Request', status: 400, requestId: expect.any(String) });
    const fields = body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['email', 'mobileNumber', 'password']);
    expect(body.errors.find((e: { field: string }) => e.field === 'mobileNumber').message).toBe('is required');
  });

  it('rejects unknown body fields instead of silently dropping them', async () => {
    const res = await post(t.app, '/auth/signup', { mobileNumber: randomMobileNumber(), tier: 'pro' });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ in: 'body', field: 'tier', message: 'is not a known field' }]);
  });

  it('rejects unknown fields on protected routes too', async () => {
    const user = await signIn(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title: 'x', userId: user.userId }, headers: user.auth });
    expectProblem(res, 400, 'VALIDATION_FAILED');
  });

  it('answers malformed JSON, oversized bodies and unknown routes with problems', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/auth/signup', payload: '{"mobileNumber":', headers: { 'content-type': 'application/json' } });
    expectProblem(bad, 400, 'INVALID_JSON');
    const big = await post(t.app, '/auth/signup', { mobileNumber: randomMobileNumber(), name: 'x'.repeat(5000) });
    expectProblem(big, 413, 'PAYLOAD_TOO_LARGE');
    expectProblem(await t.app.inject({ url: '/nope' }), 404, 'ROUTE_NOT_FOUND');
    const text = await t.app.inject({ method: 'POST', url: '/auth/signup', payload: 'hi', headers: { 'content-type': 'text/plain' } });
    expectProblem(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('request ids', () => {
  it('echoes a client X-Request-Id in the header and in problems', async () => {
    const res = await t.app.inject({ url: '/nope', headers: { 'x-request-id': 'client-abc.123' } });
    expect(res.headers['x-request-id']).toBe('client-abc.123');
    expect(res.json().requestId).toBe('client-abc.123');
  });

  it('mints a UUID when none (or an unsafe one) is sent', async () => {
    const plain = await t.app.inject({ url: '/health' });
    expect(plain.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'bad id with spaces\n' } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('operations and contract', () => {
  it('health and readiness', async () => {
    expect((await t.app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ url: '/ready' })).json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('serves Swagger UI and an OpenAPI document with every route, an operationId and tags', async () => {
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
    const spec = (await t.app.inject({ url: '/openapi.json' })).json();
    const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { operationId?: string; tags?: string[] }>).map(([method, op]) => ({ path, method, ...op })),
    );
    const routes = operations.map((o) => `${o.method.toUpperCase()} ${o.path}`);
    for (const expected of [
      'POST /auth/signup', 'POST /auth/send-otp', 'POST /auth/verify-otp', 'POST /auth/forgot-password', 'POST /auth/reset-password',
      'POST /auth/change-password', 'POST /auth/login', 'POST /auth/refresh', 'POST /auth/logout', 'GET /user/me', 'PATCH /user/me',
      'POST /chatroom', 'GET /chatroom', 'GET /chatroom/{id}', 'PATCH /chatroom/{id}', 'DELETE /chatroom/{id}', 'GET /health', 'GET /ready',
    ]) {
      expect(routes).toContain(expected);
    }
    for (const op of operations) {
      expect(op.operationId, `${op.method} ${op.path}`).toBeTruthy();
      expect(op.tags?.length, `${op.method} ${op.path}`).toBeGreaterThan(0);
    }
  });

  it('the committed openapi.json is exactly what the app serves (modulo key order)', async () => {
    const served = (await t.app.inject({ url: '/openapi.json' })).json();
    const committed = JSON.parse(readFileSync(new URL('../../../../openapi.json', import.meta.url), 'utf8'));
    // The served spec names this instance's URL; the committed one a fixed local URL.
    expect({ ...served, servers: committed.servers }).toEqual(committed);
  });
});
