import { Type, type Static } from 'typebox';
import { Nullable, ReplyFailureCodeSchema, Timestamp, Uuid } from './common.schemas.js';
import { MessageAttachmentSchema } from './file.schemas.js';

export const MAX_THINKING_BUDGET = 32_768;
export const MAX_OUTPUT_TOKENS_SETTING = 65_536;

const replySettingsProperties = {
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: 'Sampling temperature, 0 to 2. Omitted: the model\'s default.' })),
  topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Nucleus sampling, 0 to 1. Omitted: the model\'s default.' })),
  maxOutputTokens: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_OUTPUT_TOKENS_SETTING,
      description: 'Largest reply in tokens (thinking included); never above the server\'s own cap (GEMINI_MAX_OUTPUT_TOKENS).',
    }),
  ),
  thinking: Type.Optional(
    Type.Union(
      [
        Type.Literal('off'),
        Type.Literal('low'),
        Type.Literal('high'),
        Type.Integer({ minimum: 0, maximum: MAX_THINKING_BUDGET, description: 'A thinking budget in tokens (0: off).' }),
      ],
      {
        description:
          'How much the model thinks before answering: `off`, `low`, `high`, or a token budget. Used only with a model that ' +
          'thinks (GET /models `thinking`); left out of a reply\'s settings otherwise. `off` (or 0) on a model that cannot ' +
          'stop thinking (Pro) leaves it at its default.',
      },
    ),
  ),
  showThoughts: Type.Optional(
    Type.Boolean({ description: 'Stream the model\'s thought summaries (`thought` events) and keep them in the reply\'s `thoughts`.' }),
  ),
  googleSearch: Type.Optional(
    Type.Boolean({ description: 'Ground the reply with Google Search: the reply carries `citations`. Only with a model that supports grounding.' }),
  ),
};

/** Generation settings: a chatroom's defaults, a send's overrides, and what a reply used. Every field is optional. */
export const ReplySettingsSchema = Type.Object(replySettingsProperties, { 'x-component-name': 'ReplySettings', additionalProperties: false });
export type ReplySettings = Static<typeof ReplySettingsSchema>;

/** The same settings in a request body (request schemas carry no component names). */
export const ReplySettingsBody = (description: string) => Type.Object(replySettingsProperties, { additionalProperties: false, description });

export const MODEL_ID_RULES =
  'A model id from GET /models. A model the caller\'s tier may not use is 403 MODEL_NOT_ALLOWED; an id not offered at all 400 MODEL_UNKNOWN.';
export const ModelIdSchema = Type.String({ minLength: 1, maxLength: 200, description: MODEL_ID_RULES });

export const CitationSchema = Type.Object(
  {
    uri: Type.String({ description: 'The source (Google\'s links are redirects that expire).' }),
    title: Type.String({ description: 'The source\'s title, often its domain.' }),
    startIndex: Type.Integer({ minimum: 0, description: 'Start of the supported text in `content`, as a JavaScript string index (UTF-16 code units).' }),
    endIndex: Type.Integer({ minimum: 0, description: 'End (exclusive) of the supported text in `content`, in the same units.' }),
  },
  { 'x-component-name': 'Citation', additionalProperties: false },
);

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
    model: Nullable(Type.String({ description: 'The model its replies use; null: the default of the user\'s tier (GET /models `defaultModel`).' })),
    settings: ReplySettingsSchema,
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
      Type.Object(
        { code: ReplyFailureCodeSchema, message: Type.String({ description: 'Safe to show to the user.', examples: ['The model took too long to answer.'] }) },
        { additionalProperties: false, description: 'Set when status is failed.' },
      ),
    ),
    usage: Nullable(
      Type.Object(
        {
          inputTokens: Type.Integer({ minimum: 0 }),
          outputTokens: Type.Integer({ minimum: 0, description: 'Tokens the reply was billed for as output: its text and its thinking.' }),
          thinkingTokens: Type.Integer({ minimum: 0, description: 'The part of outputTokens spent thinking (0 when the model did not think).' }),
        },
        { additionalProperties: false, description: 'Token usage reported by the model for this reply.' },
      ),
    ),
    model: Nullable(Type.String({ description: 'For a reply: the model it is (or was) generated with. Null for prompts.' })),
    // For a reply: the settings it is generated with (the chatroom's, then the send's overrides, less what the model
    // cannot do). Null for prompts and for replies older than settings.
    settings: Nullable(ReplySettingsSchema),
    thoughts: Nullable(Type.String({ description: 'For a reply sent with showThoughts: the model\'s thought summaries, apart from `content`.' })),
    citations: Nullable(
      Type.Array(CitationSchema, { description: 'For a reply grounded with Google Search: its sources and the parts of `content` each supports.' }),
    ),
    createdAt: Timestamp(),
    updatedAt: Timestamp(),
    completedAt: Nullable(Timestamp()),
    attachments: Type.Array(MessageAttachmentSchema, { description: 'For a prompt: its files, in the order sent (deleted ones marked). Empty for replies.' }),
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
    model: Type.Optional(Nullable(ModelIdSchema)),
    settings: Type.Optional(ReplySettingsBody('Settings of the chatroom\'s replies (each may be overridden per send).')),
  },
  { additionalProperties: false, examples: [{ title: 'Trip ideas', systemPrompt: 'Be brief.' }] },
);
export type CreateChatroomBody = Static<typeof CreateChatroomBodySchema>;

export const UpdateChatroomBodySchema = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    systemPrompt: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 4000 }))),
    currentMessageId: Type.Optional(
      Uuid('Switch branch: a message of this chatroom; the newest leaf at or beneath it becomes the current message.'),
    ),
    model: Type.Optional(Nullable(ModelIdSchema)),
    settings: Type.Optional(ReplySettingsBody('Replaces the chatroom\'s settings as a whole (`{}`: the defaults).')),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ title: 'Lisbon in May', systemPrompt: 'Answer in three bullet points.' }] },
);
export type UpdateChatroomBody = Static<typeof UpdateChatroomBodySchema>;

export const ForkChatroomBodySchema = Type.Object(
  { messageId: Uuid('A finished reply of this chatroom: the new chatroom holds a copy of the path from the root to it.') },
  { additionalProperties: false, examples: [{ messageId: '0193f6a2-7c41-7d3e-9b8a-2f4e6c1d5a90' }] },
);
export type ForkChatroomBody = Static<typeof ForkChatroomBodySchema>;

export const ChatroomParamsSchema = Type.Object({ id: Uuid('Chatroom id') }, { additionalProperties: false });
