import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from './common.schemas.js';

export const TierSchema = Type.Union([Type.Literal('basic'), Type.Literal('pro')], { description: 'basic (free) or pro (paid)' });

export const UserSchema = Type.Object(
  {
    id: Uuid(),
    mobileNumber: Type.String({ description: 'E.164', examples: ['+14155550100'] }),
    mobileVerified: Type.Boolean({ description: 'True once an OTP sent to the number was verified.' }),
    name: Nullable(Type.String()),
    email: Nullable(Type.String({ format: 'email' })),
    tier: TierSchema,
    hasPassword: Type.Boolean(),
    createdAt: Timestamp(),
  },
  { 'x-component-name': 'User', additionalProperties: false },
);
export type User = Static<typeof UserSchema>;

export const UsageSchema = Type.Object(
  {
    used: Type.Integer({ minimum: 0, description: 'Prompts sent today (UTC day).' }),
    limit: Nullable(Type.Integer({ minimum: 1, description: 'Daily prompt limit; null means unlimited.' })),
    resetsAt: Timestamp('Next UTC midnight.'),
  },
  { 'x-component-name': 'Usage', additionalProperties: false },
);
export type Usage = Static<typeof UsageSchema>;

export const DailyUsageSchema = Type.Object(
  {
    ...UsageSchema.properties,
    inputTokens: Type.Integer({ minimum: 0, description: 'Prompt tokens of today\'s replies (completed and cancelled).' }),
    outputTokens: Type.Integer({ minimum: 0, description: 'Output tokens of today\'s replies, thinking included.' }),
  },
  { 'x-component-name': 'DailyUsage', additionalProperties: false },
);
export type DailyUsage = Static<typeof DailyUsageSchema>;

export const MeSchema = Type.Object(
  {
    id: Uuid(),
    mobileNumber: Type.String(),
    mobileVerified: Type.Boolean(),
    name: Nullable(Type.String()),
    email: Nullable(Type.String({ format: 'email' })),
    tier: TierSchema,
    hasPassword: Type.Boolean(),
    createdAt: Timestamp(),
    usage: DailyUsageSchema,
  },
  { 'x-component-name': 'Me', additionalProperties: false },
);
export type Me = Static<typeof MeSchema>;

export const UpdateMeBodySchema = Type.Object(
  {
    name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ name: 'Ada King', email: 'ada.king@example.com' }] },
);
export type UpdateMeBody = Static<typeof UpdateMeBodySchema>;
