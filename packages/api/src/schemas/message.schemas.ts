import { Type, type Static } from 'typebox';
import { Nullable, PageQuerySchema, Uuid } from './common.schemas.js';
import { MessageSchema, MODEL_ID_RULES, ReplySettingsBody } from './chatroom.schemas.js';
import { UsageSchema } from './user.schemas.js';
import { MAX_ATTACHMENTS } from './file.schemas.js';

export const MESSAGE_MAX_CHARS = 8000;

/** What a send or a regenerate may change for its one reply. */
function ReplyOverridesProperties() {
  return {
    model: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: `This reply only: the model to use instead of the chatroom's. ${MODEL_ID_RULES}` }),
    ),
    settings: Type.Optional(ReplySettingsBody('This reply only: settings laid over the chatroom\'s (each field given replaces the chatroom\'s).')),
  };
}

export const RegenerateBodySchema = Type.Object(ReplyOverridesProperties(), {
  additionalProperties: false,
  description: 'Optional: leave it out (or send `{}`) to answer again with the same model and settings.',
  examples: [{ settings: { thinking: 'low' } }],
});
export type RegenerateBody = Static<typeof RegenerateBodySchema>;

export const SendMessageBodySchema = Type.Object(
  {
    content: Type.String({
      minLength: 1,
      maxLength: MESSAGE_MAX_CHARS,
      pattern: '\\S',
      description: `The prompt: 1 to ${MESSAGE_MAX_CHARS} characters, not only whitespace.`,
    }),
    parentId: Type.Optional(
      Nullable(
        Uuid(
          'Start a new branch: the reply of this chatroom the prompt follows, or null for a new first prompt. Omitted: ' +
            'continue from the chatroom\'s currentMessageId. To edit prompt P, send the new text with parentId = P.parentId.',
        ),
      ),
    ),
    attachments: Type.Optional(
      Type.Array(Uuid(), {
        maxItems: MAX_ATTACHMENTS,
        uniqueItems: true,
        description:
          `Files from POST /files to send with the prompt, in order (at most ${MAX_ATTACHMENTS}, each once). A file that is not ` +
          'the caller\'s or was deleted: 404 FILE_NOT_FOUND; one the reply\'s model cannot read (GET /models inputModalities): ' +
          '400 ATTACHMENT_NOT_SUPPORTED.',
      }),
    ),
    ...ReplyOverridesProperties(),
  },
  { additionalProperties: false, examples: [{ content: 'Plan a day in Lisbon' }] },
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
  prefer: Type.Optional(Type.String({ description: '`wait=N` (N ≤ 60): hold the response until the reply is finished (200) or N seconds pass (202).', examples: ['wait=30'] })),
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
  {
    items: Type.Array(MessageSchema, { description: 'One branch, leaf first, each message followed by its parent.' }),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the older messages of the same branch.' })),
  },
  { 'x-component-name': 'MessageList', additionalProperties: false },
);
export type MessageList = Static<typeof MessageListSchema>;

export const ListMessagesQuerySchema = Type.Object(
  {
    ...PageQuerySchema.properties,
    leafId: Type.Optional(
      Uuid('List the branch through this message (the newest leaf at or beneath it) instead of the current branch.'),
    ),
  },
  { additionalProperties: false },
);

export const MessageParamsSchema = Type.Object({ id: Uuid('Chatroom id'), messageId: Uuid('Message id') }, { additionalProperties: false });
