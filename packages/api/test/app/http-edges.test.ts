import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_METHODS } from '../../src/app.js';
import { buildTestApp, expectProblem, post, randomMobileNumber, signIn, type SignedIn, type TestApp } from '@gemini-chat/testkit';

let t: TestApp;
let user: SignedIn;
beforeAll(async () => {
  t = await buildTestApp({ CORS_ORIGINS: 'https://app.example' });
  user = await signIn(t.app);
});
afterAll(() => t.close());

describe('JSON bodies keep their types', () => {
  it.each([
    ['a number', 12345],
    ['an array', ['x']],
    ['a boolean', true],
  ])('refuses %s where a string is expected instead of storing it as text', async (_name, title) => {
    const res = await t.app.inject({ method: 'POST', url: '/chatroom', payload: { title }, headers: user.auth });
    const body = expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(body.errors).toEqual([{ in: 'body', field: 'title', message: 'must be string' }]);
    const list = await t.app.inject({ url: '/chatroom', headers: user.auth });
    expect(list.json().items.map((room: { title: string }) => room.title)).not.toContain(String(title));
  });

  it('refuses a number as a profile name', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: '/user/me', payload: { name: 42 }, headers: user.auth });
    expectProblem(res, 400, 'VALIDATION_FAILED');
  });

  it('still reads query strings and path parameters, which are always text, as their declared types', async () => {
    const res = await t.app.inject({ url: '/chatroom?limit=1', headers: user.auth });
    expect(res.statusCode).toBe(200);
    expectProblem(await t.app.inject({ url: '/chatroom?limit=lots', headers: user.auth }), 400, 'VALIDATION_FAILED');
  });
});

describe('CORS', () => {
  const preflight = (url: string, method: string, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'OPTIONS',
      url,
      headers: { origin: 'https://app.example', 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type', ...headers },
    });

  it('allows every method the API serves', () => {
    const spec = JSON.parse(readFileSync(new URL('../../../../openapi.json', import.meta.url), 'utf8')) as { paths: Record<string, object> };
    const served = new Set(Object.values(spec.paths).flatMap((operations) => Object.keys(operations).map((m) => m.toUpperCase())));
    expect([...served].filter((method) => !CORS_METHODS.includes(method))).toEqual([]);
  });

  it.each(['PATCH', 'DELETE'])('lets a browser on an allowed origin %s a chatroom', async (method) => {
    const room = (await t.app.inject({ method: 'POST', url: '/chatroom', payload: {}, headers: user.auth })).json();
    const res = await preflight(`/chatroom/${room.id}`, method);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(String(res.headers['access-control-allow-methods']).split(/,\s*/)).toContain(method);
    const actual = await t.app.inject({
      method: method as 'PATCH' | 'DELETE',
      url: `/chatroom/${room.id}`,
      headers: { ...user.auth, origin: 'https://app.example' },
      ...(method === 'PATCH' ? { payload: { title: 'Renamed' } } : {}),
    });
    expect(actual.statusCode).toBe(method === 'PATCH' ? 200 : 204);
    expect(actual.headers['access-control-allow-origin']).toBe('https://app.example');
  });

  it('answers a malformed preflight with a problem document', async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/chatroom', headers: { origin: 'https://app.example' } });
    expectProblem(res, 400, 'INVALID_PREFLIGHT');
    expect(res.headers['x-request-id']).toBeDefined();
    expectProblem(await t.app.inject({ method: 'OPTIONS', url: '/chatroom', headers: { 'access-control-request-method': 'POST' } }), 400, 'INVALID_PREFLIGHT');
  });
});

describe('trailing slashes', () => {
  it('treats /chatroom/ as /chatroom for every method', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/chatroom/', payload: { title: 'Slash' }, headers: user.auth });
    expect(created.statusCode).toBe(201);
    const list = await t.app.inject({ url: '/chatroom/', headers: user.auth });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((room: { id: string }) => room.id)).toContain(created.json().id);
    expect((await t.app.inject({ url: `/chatroom/${created.json().id}/`, headers: user.auth })).statusCode).toBe(200);
    const renamed = await t.app.inject({ method: 'PATCH', url: `/chatroom/${created.json().id}/`, payload: { title: 'Slashed' }, headers: user.auth });
    expect(renamed.json().title).toBe('Slashed');
  });

  it('works on public routes and the docs too', async () => {
    const signup = await post(t.app, '/auth/signup/', { mobileNumber: randomMobileNumber() });
    expect(signup.statusCode).toBe(201);
    expect((await t.app.inject({ url: '/user/me/', headers: user.auth })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/health/' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/openapi.json' })).statusCode).toBe(200);
    expect([200, 302]).toContain((await t.app.inject({ url: '/docs' })).statusCode);
    expect([200, 302]).toContain((await t.app.inject({ url: '/docs/' })).statusCode);
  });
});
