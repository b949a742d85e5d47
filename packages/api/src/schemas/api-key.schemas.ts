import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from './common.schemas.js';

export const ApiKeySchema = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    prefix: Type.String({ description: 'The key\'s first characters, to tell keys apart; not enough to use it.', examples: ['gck_7fQ2xA'] }),
    createdAt: Timestamp(),
    lastUsedAt: Nullable(Timestamp('Recorded at most once a minute.')),
    expiresAt: Nullable(Timestamp('null: never expires.')),
  },
  { 'x-component-name': 'ApiKey', additionalProperties: false },
);
export type ApiKey = Static<typeof ApiKeySchema>;

export const CreatedApiKeySchema = Type.Object(
  {
    ...ApiKeySchema.properties,
    key: Type.String({
      pattern: '^gck_[0-9A-Za-z]{43}$',
      description: 'The key itself: shown this once and never again (only its hash is stored). Send it as `Authorization: Bearer <key>`.',
    }),
  },
  { 'x-component-name': 'CreatedApiKey', additionalProperties: false },
);
export type CreatedApiKey = Static<typeof CreatedApiKeySchema>;

export const ApiKeyListSchema = Type.Object(
  { items: Type.Array(ApiKeySchema, { description: 'Oldest first, expired keys included; never the keys themselves.' }) },
  { 'x-component-name': 'ApiKeyList', additionalProperties: false },
);
export type ApiKeyList = Static<typeof ApiKeyListSchema>;

export const CreateApiKeyBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S', description: 'What the key is for.' }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'Left out: the key never expires.' })),
  },
  { additionalProperties: false, examples: [{ name: 'Nightly report script', expiresInDays: 90 }] },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBodySchema>;

export const ApiKeyParamsSchema = Type.Object({ id: Uuid('API key id') }, { additionalProperties: false });
