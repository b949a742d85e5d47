import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '@gemini-chat/shared';
import { createLimiter } from '../../plugins/rate-limit.js';
import type { AuthService, ClientContext } from '../../services/auth.service.js';
import { mobileNumberKey } from '../../lib/phone.js';
import { described, errorCodes, JSON_BODY_CODES, PUBLIC_CODES, TOKEN_CODES, NoContentSchema } from '../../schemas/common.schemas.js';
import {
  ChangePasswordBodySchema,
  LoginBodySchema,
  MobileNumberBodySchema,
  OtpChallengeSchema,
  RefreshBodySchema,
  ResetPasswordBodySchema,
  SendOtpBodySchema,
  SignupBodySchema,
  SignupResponseSchema,
  TokensSchema,
  VerifyOtpBodySchema,
} from '../../schemas/auth.schemas.js';

const client = (request: FastifyRequest): ClientContext => ({
  userAgent: request.headers['user-agent']?.slice(0, 300) ?? null,
  ip: request.ip,
});

export const authRoutes: FastifyPluginAsyncTypebox<{ auth: AuthService; redis: Redis; config: Config }> = async (app, opts) => {
  const { auth, redis, config } = opts;
  const tags = ['Auth'];

  // Brute-force limits: per client IP across all auth routes, and per target number across all auth routes.
  const perIp = await createLimiter(app, redis, config.redis.keyPrefix, {
    name: 'auth-ip',
    max: config.auth.rateLimitPerIp,
    timeWindowMs: 60_000,
    keyGenerator: (request) => request.ip,
    message: 'Too many authentication requests from this address; slow down.',
  });
  const perNumber = await createLimiter(app, redis, config.redis.keyPrefix, {
    name: 'auth-number',
    max: config.auth.rateLimitPerNumber,
    timeWindowMs: 15 * 60_000,
    keyGenerator: (request) => mobileNumberKey((request.body as { mobileNumber?: unknown }).mobileNumber, config.otp.defaultRegion),
    message: 'Too many authentication requests for this mobile number; try again later.',
  });
  const limited = [perIp, perNumber];
  // Every auth route is public (a key is refused) and rate-limited per address.
  const AUTH_ROUTE_CODES = [...PUBLIC_CODES, 'RATE_LIMITED'] as const;

  app.post('/auth/signup', {
    preHandler: limited,
    schema: {
      operationId: 'signup',
      summary: 'Register a mobile number',
      description:
        'Creates the account and sends a signup OTP; verify it at POST /auth/verify-otp to get tokens. While OTP delivery is ' +
        '`response` (the default outside production) the code is in `otpChallenge.otp`; otherwise it is sent to the number ' +
        '(logged, until an SMS channel exists). The code expires after 5 minutes. The name, email and ' +
        'password are kept only if this signup code is the first code to prove the number. A registered number, verified ' +
        'or not, is 409: sign in with POST /auth/send-otp instead.',
      tags,
      body: SignupBodySchema,
      response: {
        201: described('The new account and its signup code challenge', SignupResponseSchema),
        ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES, 'MOBILE_NUMBER_TAKEN', 'OTP_RESEND_TOO_SOON', 'OTP_SEND_LIMIT'),
      },
    },
  }, async (request, reply) => reply.code(201).send(await auth.signup(request.body)));

  app.post('/auth/send-otp', {
    preHandler: limited,
    schema: {
      operationId: 'sendOtp',
      summary: 'Send a login OTP (or one confirming an account deletion)',
      description:
        'Each purpose has its own code: a login code cannot delete the account and a `delete_account` code signs nobody in. ' +
        'A `delete_account` code is sent only for a verified account (404 otherwise); DELETE /user/me, with that account\'s ' +
        'access token, consumes it. An unknown number is 404 USER_NOT_FOUND. One code per number and purpose is live at a ' +
        'time; another can be asked for after `resendAfter` (429 OTP_RESEND_TOO_SOON before), and only a few per hour.',
      tags,
      body: SendOtpBodySchema,
      response: {
        200: described('The code challenge (with the code itself in `response` delivery mode)', OtpChallengeSchema),
        ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES, 'USER_NOT_FOUND', 'OTP_RESEND_TOO_SOON', 'OTP_SEND_LIMIT'),
      },
    },
  }, async (request) => auth.sendOtp(request.body.mobileNumber, request.body.purpose));

  app.post('/auth/verify-otp', {
    preHandler: limited,
    schema: {
      operationId: 'verifyOtp',
      summary: 'Exchange a login or signup OTP for tokens',
      description:
        'The first code verified proves the number. Unless it is the signup code, the name, email and password given ' +
        'at signup are dropped. A wrong code is 400 OTP_INVALID with `attemptsRemaining`; after 5 wrong tries the code is ' +
        'dead (429 OTP_LOCKED); an expired one is 400 OTP_EXPIRED. Copy `accessToken` into Authorize (bearerAuth).',
      tags,
      body: VerifyOtpBodySchema,
      response: {
        200: described('An access token, a refresh token and the user', TokensSchema),
        ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES, 'USER_NOT_FOUND', 'OTP_INVALID', 'OTP_EXPIRED', 'OTP_LOCKED'),
      },
    },
  }, async (request) => auth.verifyOtp(request.body.mobileNumber, request.body.otp, client(request)));

  app.post('/auth/login', {
    preHandler: limited,
    schema: {
      operationId: 'login',
      summary: 'Sign in with a password',
      description: 'Only for a verified number with a password; anything else is 401 INVALID_CREDENTIALS, like a wrong password.',
      tags,
      body: LoginBodySchema,
      response: {
        200: described('An access token, a refresh token and the user', TokensSchema),
        ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES, 'INVALID_CREDENTIALS'),
      },
    },
  }, async (request) => auth.login(request.body.mobileNumber, request.body.password, client(request)));

  app.post('/auth/refresh', {
    preHandler: [perIp],
    schema: {
      operationId: 'refreshTokens',
      summary: 'Rotate a refresh token',
      description:
        'Returns a new token pair. A refresh token works once; reusing one revokes its whole session (401 ' +
        'REFRESH_TOKEN_REUSED). An unknown, expired or revoked one is 401 REFRESH_TOKEN_INVALID.',
      tags,
      body: RefreshBodySchema,
      response: {
        200: described('A new access token and a new refresh token', TokensSchema),
        ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES, 'REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED'),
      },
    },
  }, async (request) => auth.refresh(request.body.refreshToken));

  app.post('/auth/logout', {
    preHandler: [perIp],
    schema: {
      operationId: 'logout',
      summary: 'Revoke a refresh token and its session',
      description:
        'Signs the session out: its refresh token stops working at once and so do its access tokens (401 SESSION_REVOKED). ' +
        'An unknown or already revoked token is 204 as well, so a retry is safe.',
      tags,
      body: RefreshBodySchema,
      response: { 204: described('Signed out', NoContentSchema), ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES) },
    },
  }, async (request, reply) => {
    await auth.logout(request.body.refreshToken);
    return reply.code(204).send(null);
  });

  app.post('/auth/forgot-password', {
    preHandler: limited,
    schema: {
      operationId: 'forgotPassword',
      summary: 'Send a password-reset OTP',
      description:
        'A `password_reset` code for POST /auth/reset-password (in `otp` in `response` delivery mode). It signs nobody in. ' +
        'An unknown number is 404 USER_NOT_FOUND; the resend cooldown and hourly cap of every code apply.',
      tags,
      body: MobileNumberBodySchema,
      response: {
        200: described('The code challenge (with the code itself in `response` delivery mode)', OtpChallengeSchema),
        ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES, 'USER_NOT_FOUND', 'OTP_RESEND_TOO_SOON', 'OTP_SEND_LIMIT'),
      },
    },
  }, async (request) => auth.sendPasswordResetOtp(request.body.mobileNumber));

  app.post('/auth/reset-password', {
    preHandler: limited,
    schema: {
      operationId: 'resetPassword',
      summary: 'Set a new password with a password-reset OTP',
      description: 'Takes the code from POST /auth/forgot-password and sets `newPassword`. Revokes every session of the account.',
      tags,
      body: ResetPasswordBodySchema,
      response: {
        204: described('The password is set; every session is signed out', NoContentSchema),
        ...errorCodes(AUTH_ROUTE_CODES, JSON_BODY_CODES, 'USER_NOT_FOUND', 'OTP_INVALID', 'OTP_EXPIRED', 'OTP_LOCKED'),
      },
    },
  }, async (request, reply) => {
    await auth.resetPassword(request.body.mobileNumber, request.body.otp, request.body.newPassword);
    return reply.code(204).send(null);
  });

  // The one protected auth route: it needs the caller's identity.
  app.post('/auth/change-password', {
    onRequest: app.authenticate,
    preHandler: [perIp],
    schema: {
      operationId: 'changePassword',
      summary: 'Change (or set) the password',
      description:
        'Revokes every session and returns tokens for a fresh one. An account with a password must send ' +
        '`currentPassword` (400 CURRENT_PASSWORD_REQUIRED, or CURRENT_PASSWORD_INCORRECT when wrong); one without sets its first.',
      tags,
      security: [{ bearerAuth: [] }],
      body: ChangePasswordBodySchema,
      response: {
        200: described('Tokens for a fresh session (every other session is signed out)', TokensSchema),
        ...errorCodes(TOKEN_CODES, JSON_BODY_CODES, 'RATE_LIMITED', 'USER_NOT_FOUND', 'CURRENT_PASSWORD_REQUIRED', 'CURRENT_PASSWORD_INCORRECT'),
      },
    },
  }, async (request) => auth.changePassword(request.auth.userId, request.body, client(request)));
};
