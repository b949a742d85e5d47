import { Type, type Static } from 'typebox';
import { Nullable, Timestamp, Uuid } from './common.schemas.js';

export const ShareSchema = Type.Object(
  {
    id: Uuid('The share\'s id: a random version 4 UUID, the secret part of its link.'),
    url: Type.String({ description: 'The public link (GET /s/{shareId}): anyone who has it can read the share, without signing in.' }),
    chatroomId: Uuid('The chatroom it was taken from.'),
    title: Type.String({ description: 'The chatroom\'s title when the share was taken.' }),
    messageCount: Type.Integer({ minimum: 1, description: 'Finished messages in the share.' }),
    createdAt: Timestamp(),
  },
  { 'x-component-name': 'Share', additionalProperties: false },
);
export type Share = Static<typeof ShareSchema>;

export const ShareListSchema = Type.Object(
  { items: Type.Array(ShareSchema), nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page.' })) },
  { 'x-component-name': 'ShareList', additionalProperties: false },
);
export type ShareList = Static<typeof ShareListSchema>;

export const SharedMessageSchema = Type.Object(
  {
    role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
    content: Type.String({ description: 'The text as it was when the share was taken (plain text; Markdown is not rendered).' }),
    createdAt: Timestamp(),
  },
  { 'x-component-name': 'SharedMessage', additionalProperties: false },
);

/** What anyone with the link reads: no user, chatroom or message ids, nothing about who shared it. */
export const PublicShareSchema = Type.Object(
  {
    title: Type.String(),
    messages: Type.Array(SharedMessageSchema, { description: 'The branch as it was when shared, first prompt first; finished messages only.' }),
    createdAt: Timestamp('When the share was taken.'),
  },
  { 'x-component-name': 'PublicShare', additionalProperties: false },
);
export type PublicShare = Static<typeof PublicShareSchema>;

export const ShareParamsSchema = Type.Object({ id: Uuid('Share id') }, { additionalProperties: false });

/**
 * The public route takes any text as the id: a malformed id is 404 like an unknown or revoked one, so the answer
 * says nothing about which ids are well formed.
 */
export const PublicShareParamsSchema = Type.Object(
  { shareId: Type.String({ description: 'The share id from its link.' }) },
  { additionalProperties: false },
);
