import type { ChatroomExportRows } from '@gemini-chat/shared';
import { asReplyFailureCode } from '@gemini-chat/shared';
import { EXPORT_FORMAT, EXPORT_VERSION, type ChatroomExport, type ExportedAttachment, type ExportedMessage } from '../schemas/export.schemas.js';

/**
 * Chatrooms as `gemini-chat.chatroom` documents (docs/export-format.md), one per chatroom in the order of the rows.
 * Both exports (one chatroom, a whole account) are made here, so each of the account's chatrooms can be imported
 * again exactly as a chatroom's own export.
 */
export function toChatroomExports(rows: ChatroomExportRows, exportedAt: Date): ChatroomExport[] {
  const attachments = new Map<string, ExportedAttachment[]>();
  for (const file of rows.attachments) {
    const list = attachments.get(file.message_id) ?? [];
    list.push({ id: file.id, name: file.name, mimeType: file.mime_type, sizeBytes: Number(file.size_bytes), sha256: file.sha256, deleted: file.deleted_at !== null });
    attachments.set(file.message_id, list);
  }
  const messages = new Map<string, ExportedMessage[]>();
  for (const row of rows.messages) {
    const list = messages.get(row.chatroom_id) ?? [];
    list.push({
      id: row.id,
      parentId: row.parent_id,
      role: row.role,
      status: row.status,
      content: row.content,
      error: row.error_code ? { code: asReplyFailureCode(row.error_code), message: row.error_message ?? '' } : null,
      thoughts: row.thoughts,
      citations: row.citations,
      model: row.model,
      settings: row.settings,
      attachments: attachments.get(row.id) ?? [],
      usage:
        row.input_tokens !== null && row.output_tokens !== null
          ? { inputTokens: row.input_tokens, outputTokens: row.output_tokens, thinkingTokens: row.thinking_tokens ?? 0 }
          : null,
      createdAt: row.created_at.toISOString(),
    });
    messages.set(row.chatroom_id, list);
  }
  return rows.chatrooms.map((room) => ({
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exportedAt: exportedAt.toISOString(),
    chatroom: {
      title: room.title,
      systemPrompt: room.system_prompt,
      model: room.model,
      settings: room.settings,
      createdAt: room.created_at.toISOString(),
      currentMessageId: room.current_message_id,
    },
    messages: messages.get(room.id) ?? [],
  }));
}
