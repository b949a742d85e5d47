import { Type, type Static } from 'typebox';
import { OtpCode } from './auth.schemas.js';
import { SubscriptionStatusSchema } from './billing.schemas.js';
import { Timestamp, Uuid } from './common.schemas.js';
import { ChatroomExportSchema } from './export.schemas.js';
import { DailyUsageSchema, UserSchema } from './user.schemas.js';

export const DeleteAccountBodySchema = Type.Object(
  { otp: { ...OtpCode, description: 'A code from POST /auth/send-otp with purpose `delete_account`, sent to this account\'s number.' } },
  { additionalProperties: false, examples: [{ otp: '123456' }] },
);
export type DeleteAccountBody = Static<typeof DeleteAccountBodySchema>;

export const ExportedFileSchema = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    mimeType: Type.String(),
    sizeBytes: Type.Integer({ minimum: 1 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    createdAt: Timestamp(),
    deleted: Type.Boolean({ description: 'True once deleted: messages still name it, its bytes are gone.' }),
  },
  { 'x-component-name': 'ExportedFile', additionalProperties: false },
);
export type ExportedFile = Static<typeof ExportedFileSchema>;

export const AccountExportSchema = Type.Object(
  {
    format: Type.Literal('gemini-chat.account-export'),
    version: Type.Literal(1, { description: 'Raised on any change an older reader could misread.' }),
    exportedAt: Timestamp(),
    profile: UserSchema,
    subscription: SubscriptionStatusSchema,
    usage: DailyUsageSchema,
    chatrooms: Type.Array(ChatroomExportSchema, {
      description: 'Every chatroom, oldest first, each with every branch as GET /chatroom/{id}/export writes it: POST /chatroom/import takes any one of them.',
    }),
    files: Type.Array(ExportedFileSchema, { description: 'Metadata of every uploaded file, deleted ones included; the bytes are at GET /files/{id}/content.' }),
  },
  { 'x-component-name': 'AccountExport', additionalProperties: false },
);
export type AccountExport = Static<typeof AccountExportSchema>;
