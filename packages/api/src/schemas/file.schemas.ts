import { Type, type Static } from 'typebox';
import { Nullable, PageQuerySchema, Timestamp, Uuid } from './common.schemas.js';

export const FILE_NAME_MAX_BYTES = 255;

export const FileSchema = Type.Object(
  {
    id: Uuid(),
    name: Type.String({ description: 'The uploaded file\'s name, sanitised (last path segment, no control characters, at most 255 bytes).' }),
    mimeType: Type.String({ description: 'Detected from the bytes, not taken from the client.', examples: ['image/png', 'application/pdf', 'text/plain'] }),
    sizeBytes: Type.Integer({ minimum: 1 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Hex SHA-256 of the bytes.' }),
    pageCount: Type.Optional(Type.Integer({ minimum: 1, description: 'PDFs: the number of pages.' })),
    createdAt: Timestamp(),
  },
  { 'x-component-name': 'File', additionalProperties: false },
);
export type FileInfo = Static<typeof FileSchema>;

export const FileListSchema = Type.Object(
  {
    items: Type.Array(FileSchema, { description: 'Newest first; deleted files are left out.' }),
    nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` for the next page.' })),
  },
  { 'x-component-name': 'FileList', additionalProperties: false },
);
export type FileList = Static<typeof FileListSchema>;

export const FileParamsSchema = Type.Object({ id: Uuid('File id') }, { additionalProperties: false });
export const FileListQuerySchema = PageQuerySchema;

/** The multipart body of POST /files, as the spec states it (the route reads the stream itself). */
export const UploadFileBodySchema = Type.Object(
  { file: Type.String({ format: 'binary', description: 'The file: exactly one part named `file`.' }) },
  { additionalProperties: false },
);

export const FileContentHeadersSchema = Type.Object({
  range: Type.Optional(Type.String({ description: 'One byte range (`bytes=0-1023`, `bytes=-500`): 206 with that part.' })),
  'if-none-match': Type.Optional(Type.String()),
});

/** A file as a message shows it; a file deleted since keeps its name and is marked deleted. */
export const MessageAttachmentSchema = Type.Object(
  {
    id: Uuid(),
    name: Type.String(),
    mimeType: Type.String(),
    sizeBytes: Type.Integer({ minimum: 1 }),
    deleted: Type.Boolean({ description: 'The file was deleted: its bytes are gone, its content route answers 404.' }),
  },
  { 'x-component-name': 'MessageAttachment', additionalProperties: false },
);
export type MessageAttachment = Static<typeof MessageAttachmentSchema>;

export const MAX_ATTACHMENTS = 10;
