import { Type, type Static, type TSchema } from 'typebox';
import { Nullable, ReplyFailureCodeSchema, Timestamp, Uuid } from './common.schemas.js';
import { CitationSchema, ReplySettingsSchema } from './chatroom.schemas.js';

// The chatroom export format (documented in docs/export-format.md). Its version changes whenever a reader of an older
// version could misread a file: new optional members do not change it, a new meaning of an existing member does.
export const EXPORT_FORMAT = 'gemini-chat.chatroom';
export const EXPORT_VERSION = 1;

const UsageSchema = Type.Object(
  {
    inputTokens: Type.Integer({ minimum: 0 }),
    outputTokens: Type.Integer({ minimum: 0 }),
    thinkingTokens: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false, description: 'Token usage the model reported for a reply.' },
);

export const ExportedAttachmentSchema = Type.Object(
  {
    id: Uuid(),
    name: Type.String({ maxLength: 1000 }),
    mimeType: Type.String({ maxLength: 255 }),
    sizeBytes: Type.Integer({ minimum: 0 }),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Hex sha256 of the bytes.' })),
    deleted: Type.Boolean({ description: 'The file had been deleted when the chatroom was exported.' }),
  },
  {
    'x-component-name': 'ExportedAttachment',
    additionalProperties: false,
    description: 'A file sent with a prompt: its metadata only (an export never holds the bytes).',
  },
);

export type ExportedAttachment = Static<typeof ExportedAttachmentSchema>;

export const ExportedMessageSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 100, description: 'Unique within the file; an import gives every message a new id.' }),
    parentId: Nullable(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'The message this one follows (earlier in `messages`): a prompt\'s is a reply (null for a first prompt), a reply\'s its prompt.',
      }),
    ),
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
    status: Type.Union([Type.Literal('queued'), Type.Literal('generating'), Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled')], {
      description: 'An import keeps completed, failed and cancelled; a reply exported while still pending is imported as cancelled.',
    }),
    content: Type.String(),
    error: Type.Optional(Nullable(Type.Object({ code: ReplyFailureCodeSchema, message: Type.String({ maxLength: 2000 }) }, { additionalProperties: false }))),
    thoughts: Nullable(Type.String()),
    citations: Nullable(Type.Array(CitationSchema)),
    model: Nullable(Type.String({ maxLength: 200 })),
    settings: Nullable(ReplySettingsSchema),
    attachments: Type.Array(ExportedAttachmentSchema, { maxItems: 100 }),
    usage: Nullable(UsageSchema),
    createdAt: Timestamp(),
  },
  { 'x-component-name': 'ExportedMessage', additionalProperties: false },
);
export type ExportedMessage = Static<typeof ExportedMessageSchema>;

export const ChatroomExportSchema = Type.Object(
  {
    format: Type.Literal(EXPORT_FORMAT),
    version: Type.Literal(EXPORT_VERSION),
    exportedAt: Timestamp(),
    chatroom: Type.Object(
      {
        title: Type.String({ minLength: 1, maxLength: 120 }),
        systemPrompt: Nullable(Type.String({ minLength: 1, maxLength: 4000 })),
        model: Nullable(Type.String({ maxLength: 200 })),
        settings: ReplySettingsSchema,
        createdAt: Timestamp(),
        currentMessageId: Nullable(Type.String({ minLength: 1, maxLength: 100, description: 'The id (in `messages`) of the leaf of the branch shown.' })),
      },
      { additionalProperties: false },
    ),
    messages: Type.Array(ExportedMessageSchema, {
      description: 'Every message of every branch, parents before their children, siblings in the order they were made.',
    }),
  },
  {
    'x-component-name': 'ChatroomExport',
    additionalProperties: false,
    description: 'A chatroom with every branch, in the versioned `gemini-chat.chatroom` format (docs/export-format.md).',
  },
);
export type ChatroomExport = Static<typeof ChatroomExportSchema>;

// ChatGPT's conversations.json, as far as an import reads it. Unknown members are allowed: the format is not
// specified and grows; anything not described here is ignored.
const ChatGptMessageSchema = Type.Object(
  {
    author: Type.Object({ role: Type.String() }),
    create_time: Type.Optional(Nullable(Type.Number())),
    content: Type.Object({ content_type: Type.String(), parts: Type.Optional(Type.Array(Type.Unknown())) }),
    recipient: Type.Optional(Nullable(Type.String())),
    metadata: Type.Optional(Nullable(Type.Object({}))),
  },
  { description: 'One message: only `text` content (and the text parts of `multimodal_text`) is imported.' },
);
const ChatGptNodeSchema = Type.Object({
  message: Type.Optional(Nullable(ChatGptMessageSchema)),
  parent: Type.Optional(Nullable(Type.String())),
  children: Type.Optional(Type.Array(Type.String())),
});
export const ChatGptConversationSchema = Type.Object(
  {
    title: Type.Optional(Nullable(Type.String())),
    create_time: Type.Optional(Nullable(Type.Number())),
    current_node: Type.Optional(Nullable(Type.String())),
    mapping: Type.Record(Type.String(), ChatGptNodeSchema, { description: 'The message tree: node id → node.' }),
  },
  { 'x-component-name': 'ChatGptConversation', description: 'A conversation of a ChatGPT data export (other members are ignored).' },
);
export type ChatGptConversation = Static<typeof ChatGptConversationSchema>;

export const ChatGptConversationsSchema = Type.Array(ChatGptConversationSchema, {
  minItems: 1,
  description: 'The conversations.json of a ChatGPT data export.',
});

/** A copy of a schema without component names: the request validator refuses the marker, and request bodies stay inline. */
function unnamed<T extends TSchema>(schema: T): T {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).filter(([key]) => key !== 'x-component-name').map(([key, value]) => [key, strip(value)]));
  };
  return strip(schema) as T;
}

/** One prompt and its reply, as GET /chatroom/{id}/export writes them: the docs' import example. */
const IMPORT_EXAMPLE = {
  format: EXPORT_FORMAT,
  version: EXPORT_VERSION,
  exportedAt: '2026-12-07T09:30:00.000Z',
  chatroom: {
    title: 'Trip ideas',
    systemPrompt: 'Be brief.',
    model: null,
    settings: {},
    createdAt: '2026-12-07T09:00:00.000Z',
    currentMessageId: 'm2',
  },
  messages: [
    { id: 'm1', parentId: null, role: 'user', status: 'completed', content: 'Plan a day in Lisbon', thoughts: null, citations: null, model: null, settings: null, attachments: [], usage: null, createdAt: '2026-12-07T09:00:05.000Z' },
    {
      id: 'm2', parentId: 'm1', role: 'assistant', status: 'completed', content: 'Morning in Alfama, lunch in Baixa, sunset at Belém.',
      thoughts: null, citations: null, model: 'gemini-2.5-flash', settings: {}, attachments: [],
      usage: { inputTokens: 12, outputTokens: 14, thinkingTokens: 0 }, createdAt: '2026-12-07T09:00:07.000Z',
    },
  ],
};

export const ImportBodySchema = unnamed(
  Type.Union([ChatroomExportSchema, ChatGptConversationsSchema], {
    description: 'A chatroom export (GET /chatroom/{id}/export?format=json) or a ChatGPT conversations.json.',
    examples: [IMPORT_EXAMPLE],
  }),
);
export type ImportBody = Static<typeof ImportBodySchema>;

export const ImportHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'Retrying with the same key and body returns the original result: the chatrooms are imported once (kept 24 h).',
    }),
  ),
});

export const ImportResultSchema = Type.Object(
  {
    chatrooms: Type.Array(
      Type.Object(
        { id: Uuid(), title: Type.String(), messageCount: Type.Integer({ minimum: 0 }) },
        { additionalProperties: false },
      ),
      { description: 'The chatrooms created, in the order of the file.' },
    ),
    skipped: Type.Array(
      Type.Object(
        {
          conversation: Type.Integer({ minimum: 0, description: 'Index of the conversation in the file (0 for a chatroom export).' }),
          nodeId: Nullable(Type.String({ description: 'The node or message left out (null: the conversation as a whole).' })),
          reason: Type.String(),
        },
        { additionalProperties: false },
      ),
      { description: 'What was not imported, and why (system and tool messages, non-text parts, attachments whose file is gone).' },
    ),
  },
  { 'x-component-name': 'ImportResult', additionalProperties: false },
);
export type ImportResult = Static<typeof ImportResultSchema>;

export const ExportQuerySchema = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('markdown')], {
        default: 'json',
        description: '`json`: every branch, in the format POST /chatroom/import reads; `markdown`: the current branch, to read.',
      }),
    ),
  },
  { additionalProperties: false },
);
