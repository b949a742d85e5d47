import type { ApiKeyRow, ChatroomRow, FileRow, MessageWithSiblings, SharedMessage, ShareSummary, UserRow } from '@gemini-chat/shared';
import { asReplyFailureCode } from '@gemini-chat/shared';
import type { ApiKey } from '../schemas/api-key.schemas.js';
import type { Chatroom, Message } from '../schemas/chatroom.schemas.js';
import type { FileInfo, MessageAttachment } from '../schemas/file.schemas.js';
import type { PublicShare, Share } from '../schemas/share.schemas.js';
import type { User } from '../schemas/user.schemas.js';
import type { ExportedFile } from '../schemas/account.schemas.js';

// Rows become wire objects here and nowhere else: what a client sees of a table is decided in one place.

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    mobileNumber: row.mobile_number,
    mobileVerified: row.mobile_verified_at !== null,
    name: row.name,
    email: row.email,
    tier: row.tier,
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at.toISOString(),
  };
}

export function toChatroom(row: ChatroomRow): Chatroom {
  return {
    id: row.id,
    title: row.title,
    systemPrompt: row.system_prompt,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    lastActivityAt: row.last_activity_at.toISOString(),
    currentMessageId: row.current_message_id,
    model: row.model,
    settings: row.settings,
  };
}

/** `attachments`: the message's files in order (replies have none); see message-attachments.ts. */
export function toMessage(row: MessageWithSiblings, attachments: MessageAttachment[]): Message {
  return {
    id: row.id,
    chatroomId: row.chatroom_id,
    role: row.role,
    status: row.status,
    content: row.content,
    replyToId: row.reply_to_id,
    parentId: row.parent_id,
    siblings: { index: row.sibling_index, count: row.sibling_count, previousId: row.previous_sibling_id, nextId: row.next_sibling_id },
    error: row.error_code ? { code: asReplyFailureCode(row.error_code), message: row.error_message ?? '' } : null,
    usage:
      row.input_tokens !== null && row.output_tokens !== null
        ? { inputTokens: row.input_tokens, outputTokens: row.output_tokens, thinkingTokens: row.thinking_tokens ?? 0 }
        : null,
    model: row.model,
    settings: row.settings,
    thoughts: row.thoughts,
    citations: row.citations,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    attachments,
  };
}

export function toFile(row: FileRow): FileInfo {
  return {
    id: row.id,
    name: row.name,
    mimeType: row.mime_type,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    ...(row.page_count !== null ? { pageCount: row.page_count } : {}),
    createdAt: row.created_at.toISOString(),
  };
}

export function toAttachment(row: { id: string; name: string; mime_type: string; size_bytes: string; deleted_at: Date | null }): MessageAttachment {
  return { id: row.id, name: row.name, mimeType: row.mime_type, sizeBytes: Number(row.size_bytes), deleted: row.deleted_at !== null };
}

export function toApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    expiresAt: row.expires_at?.toISOString() ?? null,
  };
}

/** A file in the account export: deleted ones too, marked, since messages still name them. */
export function toExportedFile(row: FileRow): ExportedFile {
  return {
    id: row.id,
    name: row.name,
    mimeType: row.mime_type,
    sizeBytes: Number(row.size_bytes),
    sha256: row.sha256,
    createdAt: row.created_at.toISOString(),
    deleted: row.deleted_at !== null,
  };
}

export function toShare(row: ShareSummary, publicBaseUrl: string): Share {
  return {
    id: row.id,
    url: `${publicBaseUrl}/s/${row.id}`,
    chatroomId: row.chatroom_id,
    title: row.title,
    messageCount: row.message_count,
    createdAt: row.created_at.toISOString(),
  };
}

/** A share as the public reads it: field by field, so nothing about its owner can slip in. */
export function toPublicShare(row: { title: string; messages: SharedMessage[]; created_at: Date }): PublicShare {
  return {
    title: row.title,
    messages: row.messages.map((m) => ({ role: m.role, content: m.content, createdAt: m.createdAt })),
    createdAt: row.created_at.toISOString(),
  };
}
