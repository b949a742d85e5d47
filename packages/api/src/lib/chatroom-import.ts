import { AppError, type FieldError } from '@gemini-chat/shared';
import type { ReplySettings } from '../schemas/chatroom.schemas.js';
import type { ChatGptConversation, ChatroomExport, ExportedAttachment } from '../schemas/export.schemas.js';

// Both import formats become the same plan: chatrooms whose messages are listed parents first, linked by keys
// local to the file. The service gives them ids and stores them; nothing here touches the database.

export interface PlannedMessage {
  key: string;
  parentKey: string | null;
  role: 'user' | 'assistant';
  status: 'completed' | 'failed' | 'cancelled';
  content: string;
  error: { code: string; message: string } | null;
  thoughts: string | null;
  citations: Array<{ uri: string; title: string; startIndex: number; endIndex: number }> | null;
  model: string | null;
  settings: ReplySettings | null;
  usage: { inputTokens: number; outputTokens: number; thinkingTokens: number } | null;
  createdAt: Date;
  attachments: ExportedAttachment[];
}

export interface PlannedChatroom {
  title: string;
  /** 'default' lets the first reply after the import give it an automatic title. */
  titleSource: 'user' | 'default';
  systemPrompt: string | null;
  model: string | null;
  settings: ReplySettings;
  createdAt: Date;
  messages: PlannedMessage[];
  /** The message the user looks at; the service moves it down to the newest leaf beneath it. */
  currentKey: string | null;
}

export interface Skipped {
  conversation: number;
  nodeId: string | null;
  reason: string;
}

export const IMPORTED_TITLE = 'Imported chat';
const TITLE_MAX_CHARS = 120;

const invalid = (field: string, message: string) =>
  new AppError(400, 'IMPORT_INVALID', `The import is invalid: body.${field} ${message}.`, { errors: [{ in: 'body', field, message } satisfies FieldError] });

/**
 * Reads our own export. The schema has checked the shapes; this checks what a schema cannot: unique ids, parents
 * that come earlier, turns that alternate (a reply follows a prompt, a prompt follows a reply or starts a branch).
 */
export function planFromExport(file: ChatroomExport): PlannedChatroom {
  const roles = new Map<string, 'user' | 'assistant'>();
  const messages = file.messages.map((m, i): PlannedMessage => {
    if (roles.has(m.id)) throw invalid(`messages.${i}.id`, 'repeats the id of an earlier message');
    if (m.parentId !== null) {
      const parentRole = roles.get(m.parentId);
      if (!parentRole) throw invalid(`messages.${i}.parentId`, 'names no earlier message of the file');
      if (parentRole === m.role) throw invalid(`messages.${i}.parentId`, `names another ${m.role} message: prompts and replies alternate`);
    } else if (m.role === 'assistant') {
      throw invalid(`messages.${i}.parentId`, 'is null for a reply: a reply follows its prompt');
    }
    roles.set(m.id, m.role);
    return {
      key: m.id,
      parentKey: m.parentId,
      role: m.role,
      // A reply exported while it was being generated will never be finished: it keeps its text so far, as cancelled.
      status: m.status === 'queued' || m.status === 'generating' ? 'cancelled' : m.status,
      content: m.content,
      error: m.status === 'failed' ? (m.error ?? null) : null,
      thoughts: m.thoughts,
      citations: m.citations,
      model: m.model,
      settings: m.settings,
      usage: m.usage,
      createdAt: new Date(m.createdAt),
      attachments: m.role === 'user' ? m.attachments : [],
    };
  });
  const current = file.chatroom.currentMessageId;
  if (current !== null && !roles.has(current)) throw invalid('chatroom.currentMessageId', 'names no message of the file');
  return {
    title: file.chatroom.title,
    titleSource: 'user',
    systemPrompt: file.chatroom.systemPrompt,
    model: file.chatroom.model,
    settings: file.chatroom.settings,
    createdAt: new Date(file.chatroom.createdAt),
    messages,
    currentKey: current,
  };
}

type ChatGptNode = ChatGptConversation['mapping'][string];

/** Seconds since the epoch (ChatGPT's float times) as a date; undefined when absent or not a real time. */
function fromUnixSeconds(seconds: number | null | undefined): Date | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined;
  const date = new Date(Math.round(seconds * 1000));
  return date.getUTCFullYear() >= 1970 && date.getUTCFullYear() <= 9999 ? date : undefined;
}

/** A node's text, or why it has none worth importing; `dropped` lists the parts left out of a mixed message. */
function textOf(node: ChatGptNode): { text: string; dropped: string[] } | { skip: string } {
  const message = node.message;
  if (!message) return { skip: '' };
  const role = message.author.role;
  if (role !== 'user' && role !== 'assistant') return { skip: `a ${role} message` };
  const metadata = (message.metadata ?? {}) as Record<string, unknown>;
  if (metadata.is_visually_hidden_from_conversation === true) return { skip: 'a message hidden from the conversation' };
  if (message.recipient && message.recipient !== 'all') return { skip: `a message addressed to the tool ${message.recipient}` };
  const { content_type: type, parts = [] } = message.content;
  if (type !== 'text' && type !== 'multimodal_text') return { skip: `${type} content` };
  const dropped: string[] = [];
  const texts: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') texts.push(part);
    else {
      const kind = part && typeof part === 'object' && typeof (part as { content_type?: unknown }).content_type === 'string'
        ? (part as { content_type: string }).content_type
        : typeof part;
      dropped.push(`a ${kind} part`);
    }
  }
  const text = texts.join('\n\n');
  if (text.trim() === '') return { skip: dropped.length > 0 ? `only non-text parts (${dropped.join(', ')})` : 'an empty message' };
  return { text, dropped };
}

/**
 * Turns one ChatGPT conversation into a chatroom. The mapping is walked from its root(s) with a visited set
 * (exports can hold cycles and very deep chains, so no recursion); a node left out passes its children to its
 * nearest imported ancestor. Turns must alternate in a chatroom: a message of the same role as the one it now
 * follows is appended to it when nothing else branches off in between, and left out otherwise.
 */
export function planFromChatGpt(conversation: ChatGptConversation, index: number, skipped: Skipped[]): PlannedChatroom {
  const mapping = new Map(Object.entries(conversation.mapping));
  const conversationTime = fromUnixSeconds(conversation.create_time) ?? new Date();
  const messages: PlannedMessage[] = [];
  const byKey = new Map<string, PlannedMessage>();
  /** Node id → the key of the message it became (itself, or the one it was appended to). */
  const importedAs = new Map<string, string>();
  const skip = (nodeId: string, reason: string) => skipped.push({ conversation: index, nodeId, reason });

  const roots = [...mapping.entries()].filter(([, node]) => !node.parent || !mapping.has(node.parent)).map(([id]) => id);
  interface Visit { id: string; parentKey: string | null; linear: boolean }
  const stack: Visit[] = roots.reverse().map((id) => ({ id, parentKey: null, linear: false }));
  const visited = new Set<string>();
  while (stack.length > 0) {
    const { id, parentKey, linear } = stack.pop()!;
    if (visited.has(id)) continue;
    visited.add(id);
    const node = mapping.get(id)!;
    const children = (node.children ?? []).filter((child) => mapping.has(child) && !visited.has(child));
    const parent = parentKey === null ? undefined : byKey.get(parentKey);
    let key: string | null = parentKey;
    let childrenLinear = linear && children.length === 1;

    const read = textOf(node);
    if ('skip' in read) {
      if (read.skip) skip(id, read.skip);
    } else {
      const role = node.message!.author.role as 'user' | 'assistant';
      for (const part of read.dropped) skip(id, `${part} (the text was imported)`);
      const createdAt = fromUnixSeconds(node.message!.create_time) ?? parent?.createdAt ?? conversationTime;
      if (parent && parent.role === role) {
        if (linear) {
          parent.content = `${parent.content}\n\n${read.text}`;
          importedAs.set(id, parent.key);
        } else {
          skip(id, `a ${role} message after another on a branch (prompts and replies alternate)`);
        }
      } else if (!parent && role === 'assistant') {
        skip(id, 'a reply without a prompt before it');
      } else {
        const metadata = (node.message!.metadata ?? {}) as Record<string, unknown>;
        const model = role === 'assistant' && typeof metadata.model_slug === 'string' ? metadata.model_slug.slice(0, 200) : null;
        const message: PlannedMessage = {
          key: id,
          parentKey: parent ? parent.key : null,
          role,
          status: 'completed',
          content: read.text,
          error: null,
          thoughts: null,
          citations: null,
          model,
          settings: null,
          usage: null,
          createdAt,
          attachments: [],
        };
        messages.push(message);
        byKey.set(id, message);
        importedAs.set(id, id);
        key = id;
        childrenLinear = children.length === 1;
      }
    }
    for (const child of [...children].reverse()) stack.push({ id: child, parentKey: key, linear: childrenLinear });
  }
  for (const id of mapping.keys()) if (!visited.has(id)) skip(id, 'not reachable from the conversation\'s root');

  // The current node, or its nearest ancestor that was imported.
  let currentKey: string | null = null;
  const seen = new Set<string>();
  for (let id = conversation.current_node ?? undefined; id !== undefined && !seen.has(id); id = mapping.get(id)?.parent ?? undefined) {
    seen.add(id);
    const key = importedAs.get(id);
    if (key) {
      currentKey = key;
      break;
    }
  }
  const title = (conversation.title ?? '').trim().slice(0, TITLE_MAX_CHARS);
  return {
    title: title || IMPORTED_TITLE,
    titleSource: title ? 'user' : 'default',
    systemPrompt: null,
    model: null,
    settings: {},
    createdAt: conversationTime,
    messages,
    currentKey: currentKey ?? messages.at(-1)?.key ?? null,
  };
}
