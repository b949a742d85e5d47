import { createHmac, randomInt } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '@gemini-chat/api/app';
import { isolate, type Isolated } from './isolation.js';

export interface TestApp extends Isolated {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The real app on a migrated schema and Redis prefix of its own. */
export async function buildTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const isolated = await isolate(env);
  const app = await buildApp({ config: isolated.config, logger: false });
  await app.ready();
  return {
    ...isolated,
    app,
    async close() {
      await app.close();
      await isolated.cleanup();
    },
  };
}

/** A fresh, valid US number each call. */
export function randomMobileNumber(): string {
  return `+1415${randomInt(200, 1000)}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
}

export interface SignedIn {
  userId: string;
  mobileNumber: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

export async function post(app: FastifyInstance, url: string, payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url, payload: payload as object, headers });
}

/** Signs up and verifies the signup OTP, as a client would. */
export async function signIn(app: FastifyInstance, extra: Record<string, unknown> = {}): Promise<SignedIn> {
  const mobileNumber = randomMobileNumber();
  const signup = await post(app, '/auth/signup', { mobileNumber, ...extra });
  if (signup.statusCode !== 201) throw new Error(`signup failed: ${signup.statusCode} ${signup.body}`);
  const otp = signup.json().otpChallenge.otp as string;
  const verified = await post(app, '/auth/verify-otp', { mobileNumber, otp });
  if (verified.statusCode !== 200) throw new Error(`verify failed: ${verified.statusCode} ${verified.body}`);
  return fromTokens(mobileNumber, verified);
}

export function fromTokens(mobileNumber: string, res: LightMyRequestResponse): SignedIn {
  return signedIn(mobileNumber, res.json());
}

/** The caller as a test uses it, from the token response of verify-otp, login or refresh. */
export function signedIn(mobileNumber: string, body: { accessToken: string; refreshToken: string; user: { id: string } }): SignedIn {
  return {
    userId: body.user.id,
    mobileNumber,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    auth: { authorization: `Bearer ${body.accessToken}` },
  };
}

/** Hand-made HS256/none JWTs, to prove the API rejects what it did not issue. */
export function craftJwt(payload: Record<string, unknown>, secret: string, alg: 'HS256' | 'none' = 'HS256'): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${enc({ alg, typ: 'JWT' })}.${enc(payload)}`;
  if (alg === 'none') return `${head}.`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  const body = res.json();
  if (res.statusCode !== status || body.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.statusCode} ${res.body}`);
  }
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${res.headers['content-type']}`);
  }
  return body;
}
