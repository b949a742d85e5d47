import type { Readable } from 'node:stream';
import { AppError } from '@gemini-chat/shared';

// The multipart parser's failures, as the problems a client reads. Everything here is about what the client sent.

const invalid = (detail: string) => new AppError(400, 'MULTIPART_INVALID', detail);

export const notMultipart = () => new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Upload the file as multipart/form-data.');

/** An error raised while reading a multipart body, as a problem (an AppError passes through). */
export function multipartProblem(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const { code, message = '' } = (err ?? {}) as { code?: string; message?: string };
  switch (code) {
    case 'FST_FILES_LIMIT':
      return new AppError(400, 'TOO_MANY_FILES', 'Send exactly one file per upload.');
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return invalid('The multipart body has too many parts: send one part named `file`.');
    case 'FST_MP_PREMATURE_CLOSE':
      return invalid('The upload ended before the multipart body was complete.');
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return invalid('A multipart field is not acceptable.');
    default:
      // busboy: "Unexpected end of form", "Malformed part header", a missing boundary, an aborted request...
      return invalid(`The multipart body is malformed${message ? ` (${message})` : ''}.`);
  }
}

/** The bytes of a file part; a failure of the client's body surfaces as its problem. */
export async function* clientBytes(file: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of file) yield chunk as Buffer;
  } catch (err) {
    throw multipartProblem(err);
  }
}
