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
    currentMessageId: Nullable(
      Uuid('The leaf of the branch the user looks at: a send continues from it, GET …/messages lists its branch. Null while empty.'),
    ),
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
    parentId: Nullable(
      Uuid('The message this one follows: for a prompt, the reply before it (null for a first prompt); for a reply, its prompt.'),
    ),
    siblings: Type.Object(
      {
        index: Type.Integer({ minimum: 1, description: '1-based position among the messages with the same parent, in creation order.' }),
        count: Type.Integer({ minimum: 1 }),
        previousId: Nullable(Uuid('The sibling before this one (switch to it with PATCH /chatroom/{id}).')),
        nextId: Nullable(Uuid('The sibling after this one.')),
      },
      {
        'x-component-name': 'MessageSiblings',
        additionalProperties: false,
        description: 'Alternatives at this point of the conversation (edited prompts, regenerated replies): draw "‹ index / count ›".',
      },
    ),
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
    messages: Type.Array(MessageSchema, { description: 'The newest messages of the current branch, newest (the leaf) first.' }),
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
    currentMessageId: Type.Optional(
      Uuid('Switch branch: a message of this chatroom; the newest leaf at or beneath it becomes the current message.'),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateChatroomBody = Static<typeof UpdateChatroomBodySchema>;

export const ForkChatroomBodySchema = Type.Object(
  { messageId: Uuid('A finished reply of this chatroom: the new chatroom holds a copy of the path from the root to it.') },
  { additionalProperties: false },
);
export type ForkChatroomBody = Static<typeof ForkChatroomBodySchema>;

export const ChatroomParamsSchema = Type.Object({ id: Uuid('Chatroom id') }, { additionalProperties: false });
