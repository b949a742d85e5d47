import { Type, type Static } from 'typebox';
import { Nullable, Uuid } from './common.schemas.js';
import { MessageSchema } from './chatroom.schemas.js';
import { UsageSchema } from './user.schemas.js';

export const MESSAGE_MAX_CHARS = 8000;

export const SendMessageBodySchema = Type.Object(
  {
    content: Type.String({
      minLength: 1,
      maxLength: MESSAGE_MAX_CHARS,
      pattern: '\\S',
      description: `The prompt: 1 to ${MESSAGE_MAX_CHARS} characters, not only whitespace.`,
    }),
  },
  { additionalProperties: false },
);
export type SendMessageBody = Static<typeof SendMessageBodySchema>;

export const SendMessageHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'Retrying with the same key returns the original result: never a second message or quota charge (kept 24 h).',
    }),
  ),
  prefer: Type.Optional(Type.String({ description: '`wait=N` (N ≤ 60): hold the response until the reply is finished (200) or N seconds pass (202).' })),
});

export const SendMessageResultSchema = Type.Object(
  {
    userMessage: MessageSchema,
    reply: MessageSchema,
    quota: UsageSchema,
    links: Type.Object(
      {
        reply: Type.String({ description: 'Poll the reply here.' }),
        stream: Type.String({ description: 'Watch the reply as Server-Sent Events.' }),
        latest: Type.String({ description: 'The chatroom\'s newest reply.' }),
      },
      { additionalProperties: false },
    ),
  },
  { 'x-component-name': 'SendMessageResult', additionalProperties: false },
);
export type SendMessageResult = Static<typeof SendMessageResultSchema>;

export const MessageListSchema = Type.Object(
  { items: Type.Array(MessageSchema), nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for older messages.' })) },
  { 'x-component-name': 'MessageList', additionalProperties: false },
);
export type MessageList = Static<typeof MessageListSchema>;

export const MessageParamsSchema = Type.Object({ id: Uuid('Chatroom id'), messageId: Uuid('Message id') }, { additionalProperties: false });
