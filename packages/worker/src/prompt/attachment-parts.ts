import { setTimeout as sleep } from 'node:timers/promises';
import { FileState, type Part } from '@google/genai';
import { DependencyUnavailableError, ObjectNotFoundError, type FileRow, type Logger, type ObjectStorage, type Store } from '@gemini-chat/shared';
import { ReplyError } from '../gemini/classify-error.js';
import type { GeminiClient } from '../gemini/gemini-client.js';
import { estimateTokens } from './build-prompt.js';

type Attachment = Awaited<ReturnType<Store['attachments']['forMessages']>>[number];

export interface AttachmentPartsDeps {
  attachments: Store['attachments'];
  storage: ObjectStorage;
  gemini: Pick<GeminiClient, 'uploadFile' | 'getFile' | 'countTokens'>;
  /** Files up to this size are sent inline; larger ones through the Files API. */
  inlineMaxBytes: number;
  log: Logger;
  /** How often a file Gemini is still processing is looked at again, and for how long at most. */
  processingPollMs?: number;
  processingMaxWaitMs?: number;
}

// Gemini keeps an uploaded file 48 hours. A copy this close to its end is uploaded again rather than risk it
// expiring between this check and the model reading it (a long reply, a retry after backoff).
export const GEMINI_COPY_SAFETY_MARGIN_MS = 3600_000;
// When Gemini does not say when a copy expires: a little under its documented 48 hours.
const GEMINI_COPY_ASSUMED_LIFETIME_MS = 47 * 3600_000;

/**
 * The types we store as Gemini accepts them. Markdown has no type of its own there (it is read as plain text), and
 * audio types go by the names Gemini lists rather than their registered aliases. Parameters (`; charset=…`) go.
 */
export function geminiMimeType(mimeType: string): string {
  const bare = mimeType.split(';')[0]!.trim().toLowerCase();
  switch (bare) {
    case 'text/markdown':
    case 'text/x-markdown':
      return 'text/plain';
    case 'audio/mpeg':
      return 'audio/mp3';
    case 'audio/x-wav':
    case 'audio/wave':
    case 'audio/vnd.wave':
      return 'audio/wav';
    case 'audio/x-flac':
      return 'audio/flac';
    case 'audio/x-aac':
    case 'audio/aacp':
      return 'audio/aac';
    case 'audio/x-aiff':
      return 'audio/aiff';
    default:
      return bare;
  }
}

/** What a file that cannot be sent (deleted, its bytes gone) shows the model instead. */
export const unavailableNote = (file: Pick<FileRow, 'name' | 'mime_type'>): string => `[attachment ${JSON.stringify(file.name)} (${file.mime_type}) was deleted]`;

/**
 * A rough count for a file Gemini could not count just now, erring on the generous side so the budget holds:
 * 258 tokens per PDF page and per image tile (four tiles assumed), 32 per second of audio (one second taken as
 * 500 compressed bytes), a token per 4 bytes of anything else.
 */
export function estimateFileTokens(file: Pick<FileRow, 'mime_type' | 'size_bytes' | 'page_count'>): number {
  const size = Number(file.size_bytes);
  if (file.mime_type === 'application/pdf') return 258 * (file.page_count ?? 1);
  if (file.mime_type.startsWith('image/')) return 258 * 4;
  if (file.mime_type.startsWith('audio/')) return Math.ceil(size / 500);
  return Math.ceil(size / 4);
}

/**
 * Turns the attachments of one reply's prompt path into Gemini parts: small files inline (read from storage),
 * larger ones as Files API references, uploaded once and reused until close to expiry. Files are resolved lazily
 * and each at most once per reply, so exchanges left out of the budget cost no storage read and no upload.
 */
export function createAttachmentParts(deps: AttachmentPartsDeps) {
  const { attachments, storage, gemini, inlineMaxBytes, log } = deps;
  const pollMs = deps.processingPollMs ?? 1000;
  const maxWaitMs = deps.processingMaxWaitMs ?? 60_000;

  async function readBytes(file: FileRow): Promise<Buffer | undefined> {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of await storage.get(file.storage_key)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      // Storage briefly unreachable: the reply is retried like any outage of a backing service.
      throw new DependencyUnavailableError('storage', err);
    }
  }

  /**
   * One reply's view of its attachments: `rows` are those of the prompt and the user turns above it, read by the
   * caller in the transaction that claimed the reply (`attachments.forMessages`).
   */
  function forReply(rows: readonly Attachment[], model: string, signal: AbortSignal) {
    const byMessage = new Map<string, Attachment[]>();
    for (const row of rows) byMessage.set(row.message_id, [...(byMessage.get(row.message_id) ?? []), row]);
    // One row per file (a file attached to several turns is resolved once); updated as copies are made.
    const files = new Map<string, FileRow>(rows.map((row) => [row.id, row]));
    const resolved = new Map<string, Promise<Part>>();

    async function geminiCopy(file: FileRow, bytes: Buffer): Promise<string> {
      const mimeType = geminiMimeType(file.mime_type);
      let copy = await gemini.uploadFile({ bytes, mimeType, displayName: file.name, signal });
      const deadline = Date.now() + maxWaitMs;
      while (copy.state === FileState.PROCESSING && copy.name) {
        if (Date.now() > deadline) {
          throw new ReplyError({
            retryable: true,
            code: 'ATTACHMENT_PROCESSING_TIMEOUT',
            message: `The model was still processing the attachment ${JSON.stringify(file.name)}; the reply will be retried.`,
            errorClass: 'timeout',
          });
        }
        await sleep(pollMs, undefined, { signal });
        copy = await gemini.getFile(copy.name, signal);
      }
      if (copy.state === FileState.FAILED) {
        throw new ReplyError({
          retryable: false,
          code: 'ATTACHMENT_PROCESSING_FAILED',
          message: `The model could not process the attachment ${JSON.stringify(file.name)}${copy.error?.message ? `: ${copy.error.message.slice(0, 200)}` : '.'}`,
          errorClass: 'bad_request',
        });
      }
      if (!copy.name || !copy.uri) throw new Error('The Files API answered an upload without a name or uri');
      const expiresAt = copy.expirationTime ? new Date(copy.expirationTime) : new Date(Date.now() + GEMINI_COPY_ASSUMED_LIFETIME_MS);
      await attachments.saveGeminiCopy(file.id, { name: copy.name, uri: copy.uri, expiresAt });
      files.set(file.id, { ...file, gemini_file_name: copy.name, gemini_file_uri: copy.uri, gemini_file_expires_at: expiresAt });
      return copy.uri;
    }

    async function resolve(file: FileRow): Promise<Part> {
      if (file.deleted_at) return { text: unavailableNote(file) };
      const mimeType = geminiMimeType(file.mime_type);
      if (Number(file.size_bytes) > inlineMaxBytes) {
        const expiresAt = file.gemini_file_expires_at?.getTime() ?? 0;
        if (file.gemini_file_uri && expiresAt - Date.now() > GEMINI_COPY_SAFETY_MARGIN_MS) return { fileData: { fileUri: file.gemini_file_uri, mimeType } };
      }
      const bytes = await readBytes(file);
      if (!bytes) return { text: unavailableNote(file) };
      if (bytes.length <= inlineMaxBytes) return { inlineData: { mimeType, data: bytes.toString('base64') } };
      return { fileData: { fileUri: await geminiCopy(file, bytes), mimeType } };
    }

    function partOf(fileId: string): Promise<Part> {
      let part = resolved.get(fileId);
      if (!part) {
        part = resolve(files.get(fileId)!);
        resolved.set(fileId, part);
      }
      return part;
    }

    async function tokensOf(file: FileRow): Promise<number> {
      if (file.deleted_at) return estimateTokens(unavailableNote(file));
      if (file.token_count !== null) return file.token_count;
      const part = await partOf(file.id);
      if (part.text !== undefined) return estimateTokens(part.text); // its bytes are gone
      try {
        const tokens = await gemini.countTokens({ model, parts: [part], signal });
        await attachments.saveTokenCount(file.id, tokens);
        files.set(file.id, { ...(files.get(file.id) ?? file), token_count: tokens });
        return tokens;
      } catch (err) {
        if (signal.aborted) throw err;
        // Only the budget depends on it: a rough count now, and Gemini is asked again by a later reply.
        log.warn({ err, fileId: file.id }, 'could not count an attachment; estimating it');
        return estimateFileTokens(file);
      }
    }

    return {
      /** What each message's attachments cost, in tokens (counted by Gemini once per file, then stored). */
      async tokens(): Promise<Map<string, number>> {
        const costs = new Map<string, number>();
        for (const [messageId, list] of byMessage) {
          const each = await Promise.all(list.map((row) => tokensOf(files.get(row.id)!)));
          costs.set(messageId, each.reduce((a, b) => a + b, 0));
        }
        return costs;
      },

      /** The parts of these messages' attachments, in their order. */
      async parts(ids: readonly string[]): Promise<Map<string, Part[]>> {
        const parts = new Map<string, Part[]>();
        for (const messageId of ids) {
          const list = byMessage.get(messageId);
          if (list) parts.set(messageId, await Promise.all(list.map((row) => partOf(row.id))));
        }
        return parts;
      },

      /**
       * Gemini said it has no file `fileId` (undefined: it did not say which): forgets the copies sent in this
       * reply that match, so the next parts() uploads them again. False when no copy was sent, so a retry would
       * not change anything.
       */
      async forgetMissing(fileId: string | undefined): Promise<boolean> {
        const sent: FileRow[] = [];
        for (const [id, part] of resolved) {
          const uri = (await part.catch(() => undefined))?.fileData?.fileUri;
          const file = files.get(id);
          if (uri && file) sent.push({ ...file, gemini_file_uri: uri });
        }
        const named = sent.filter((file) => fileId !== undefined && (file.gemini_file_name === `files/${fileId}` || file.gemini_file_uri?.endsWith(`/files/${fileId}`)));
        // A name matching none of ours (or none given): any of them may be the one.
        const stale = named.length > 0 ? named : sent;
        for (const file of stale) {
          await attachments.forgetGeminiCopy(file.id, file.gemini_file_uri!);
          files.set(file.id, { ...file, gemini_file_name: null, gemini_file_uri: null, gemini_file_expires_at: null });
          resolved.delete(file.id);
        }
        return stale.length > 0;
      },
    };
  }

  return { forReply };
}
export type AttachmentParts = ReturnType<typeof createAttachmentParts>;
export type ReplyAttachments = Awaited<ReturnType<AttachmentParts['forReply']>>;
