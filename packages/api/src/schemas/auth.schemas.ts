import { Type, type Static } from 'typebox';
import { Timestamp } from './common.schemas.js';
import { UserSchema } from './user.schemas.js';

export const MobileNumber = Type.String({
  minLength: 3,
  maxLength: 32,
  description: 'Phone number in E.164 (e.g. +14155550100); normalised before use.',
  examples: ['+14155550100'],
});
export const OtpCode = Type.String({ pattern: '^[0-9]{6}$', description: 'The 6-digit code.', examples: ['123456'] });
export const Password = Type.String({ minLength: 8, maxLength: 128, description: '8 to 128 characters.' });

export const OtpChallengeSchema = Type.Object(
  {
    expiresAt: Timestamp('When the code stops working.'),
    resendAfter: Timestamp('Earliest time another code can be requested.'),
    otp: Type.Optional(Type.String({ description: 'The code itself, only when OTP delivery mode is `response` (offline/dev).', examples: ['482913'] })),
  },
  { 'x-component-name': 'OtpChallenge', additionalProperties: false },
);
export type OtpChallenge = Static<typeof OtpChallengeSchema>;

export const TokensSchema = Type.Object(
  {
    accessToken: Type.String({ description: 'Short-lived JWT for `Authorization: Bearer`.' }),
    refreshToken: Type.String({ description: 'Opaque; exchange at POST /auth/refresh. Single use: each refresh returns a new one.' }),
    tokenType: Type.Literal('Bearer'),
    expiresIn: Type.Integer({ description: 'Access token lifetime in seconds.' }),
    user: UserSchema,
  },
  { 'x-component-name': 'Tokens', additionalProperties: false },
);
export type Tokens = Static<typeof TokensSchema>;

export const SignupBodySchema = Type.Object(
  {
    mobileNumber: MobileNumber,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    password: Type.Optional(Password),
  },
  { additionalProperties: false, examples: [{ mobileNumber: '+14155550100', name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct-horse-42' }] },
);
export type SignupBody = Static<typeof SignupBodySchema>;

export const SignupResponseSchema = Type.Object(
  { user: UserSchema, otpChallenge: OtpChallengeSchema },
  { 'x-component-name': 'SignupResult', additionalProperties: false },
);

export const MobileNumberBodySchema = Type.Object({ mobileNumber: MobileNumber }, { additionalProperties: false, examples: [{ mobileNumber: '+14155550100' }] });
export const SendOtpBodySchema = Type.Object(
  {
    mobileNumber: MobileNumber,
    purpose: Type.Optional(
      Type.Union([Type.Literal('login'), Type.Literal('delete_account')], {
        description: '`login` (the default): a code for POST /auth/verify-otp. `delete_account`: a code for DELETE /user/me; it signs nobody in.',
      }),
    ),
  },
  { additionalProperties: false, examples: [{ mobileNumber: '+14155550100', purpose: 'login' }] },
);
export type SendOtpBody = Static<typeof SendOtpBodySchema>;
export const VerifyOtpBodySchema = Type.Object(
  { mobileNumber: MobileNumber, otp: OtpCode },
  {
    additionalProperties: false,
    description: 'Put the code from the signup or send-otp response (`otp`, in `response` delivery mode) in place of 123456.',
    examples: [{ mobileNumber: '+14155550100', otp: '123456' }],
  },
);
export const LoginBodySchema = Type.Object(
  { mobileNumber: MobileNumber, password: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false, examples: [{ mobileNumber: '+14155550100', password: 'correct-horse-42' }] },
);
export const RefreshBodySchema = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 200, description: 'The refreshToken of the last token pair.' }) },
  { additionalProperties: false, examples: [{ refreshToken: 'Jx0d6cXq3bW1o9mQvT2y8kRzL4nHfA7sPuE5gC0iVwY' }] },
);
export const ResetPasswordBodySchema = Type.Object(
  { mobileNumber: MobileNumber, otp: OtpCode, newPassword: Password },
  { additionalProperties: false, examples: [{ mobileNumber: '+14155550100', otp: '123456', newPassword: 'a-new-passphrase-7' }] },
);
export const ChangePasswordBodySchema = Type.Object(
  {
    currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Required when the account has a password.' })),
    newPassword: Password,
  },
  { additionalProperties: false, examples: [{ currentPassword: 'correct-horse-42', newPassword: 'a-new-passphrase-7' }] },
);
