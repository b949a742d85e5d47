import type { MessageWithSiblings, Repositories } from '@gemini-chat/shared';
import type { Message } from '../schemas/chatroom.schemas.js';
import type { MessageAttachment } from '../schemas/file.schemas.js';
import { toAttachment, toMessage } from './mappers.js';

/** Messages as clients see them, their attachments read in one query for the whole page (replies carry none). */
export async function toMessages(repositories: Pick<Repositories, 'files'>, rows: MessageWithSiblings[]): Promise<Message[]> {
  const prompts = rows.filter((row) => row.role === 'user').map((row) => row.id);
  const byMessage = new Map<string, MessageAttachment[]>();
  for (const attached of await repositories.files.attachmentsOf(prompts)) {
    const list = byMessage.get(attached.message_id) ?? [];
    list.push(toAttachment(attached));
    byMessage.set(attached.message_id, list);
  }
  return rows.map((row) => toMessage(row, byMessage.get(row.id) ?? []));
}

export async function toMessageWithAttachments(repositories: Pick<Repositories, 'files'>, row: MessageWithSiblings): Promise<Message> {
  const [message] = await toMessages(repositories, [row]);
  return message!;
}
