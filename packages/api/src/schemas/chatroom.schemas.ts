import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from './common.schemas.js';

export const ChatroomSchema = Type.Object(
  {
    id: Uuid(),
    title: Type.String(),
    systemPrompt: Nullable(Type.String()),
    createdAt: Timestamp(),
    updatedAt: Timestamp(),
    lastActivityAt: Timestamp('Last message or creation; the list is ordered by it, newest first.'),
  },
  { 'x-component-name': 'Chatroom', additionalProperties: false },
);
export type Chatroom = Static<typeof ChatroomSchema>;

export const MessageStatusSchema = Type.Union(
  [Type.Literal('queued'), Type.Literal('generating'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled')],
  { description: 'User messages are always `completed`; assistant replies move queued → generating → a final state.' },
);

export const MessageSchema = Type.Object(
  {
    id: Uuid(),
    chatroomId: Uuid(),
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
    status: MessageStatusSchema,
    content: Type.String({ description: 'The text; for a reply still generating, what has been produced so far.' }),
    replyToId: Nullable(Uuid('For an assistant reply: the user message it answers.')),
    error: Nullable(
      Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false, description: 'Set when status is failed.' }),
    ),
    usage: Nullable(
      Type.Object(
        { inputTokens: Type.Integer({ minimum: 0 }), outputTokens: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false, description: 'Token usage reported by the model for this reply.' },
      ),
    ),
    model: Nullable(Type.String()),
    createdAt: Timestamp(),
    updatedAt: Timestamp(),
    completedAt: Nullable(Timestamp()),
  },
  { 'x-component-name': 'Message', additionalProperties: false },
);
export type Message = Static<typeof MessageSchema>;

export const ChatroomListSchema = Type.Object(
  { items: Type.Array(ChatroomSchema), nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page.' })) },
  { 'x-component-name': 'ChatroomList', additionalProperties: false },
);
export type ChatroomList = Static<typeof ChatroomListSchema>;

export const ChatroomDetailSchema = Type.Object(
  {
    ...ChatroomSchema.properties,
    messages: Type.Array(MessageSchema, { description: 'The newest messages, newest first.' }),
    hasMoreMessages: Type.Boolean(),
    messagesNextCursor: Nullable(Type.String({ description: 'Cursor for older messages at GET /chatroom/{id}/messages.' })),
  },
  { 'x-component-name': 'ChatroomDetail', additionalProperties: false },
);
export type ChatroomDetail = Static<typeof ChatroomDetailSchema>;

export const CreateChatroomBodySchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 120, description: 'Defaults to "New chat".' })),
    systemPrompt: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: 'Instructions sent with every prompt.' })),
  },
  { additionalProperties: false },
);
export type CreateChatroomBody = Static<typeof CreateChatroomBodySchema>;

export const UpdateChatroomBodySchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    systemPrompt: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 4000 }))),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChatroomBody = Static<typeof UpdateChatroomBodySchema>;

export const ChatroomParamsSchema = Type.Object({ id: Uuid('Chatroom id') }, { additionalProperties: false });
