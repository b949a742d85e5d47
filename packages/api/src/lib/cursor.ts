import { AppError } from '@gemini-chat/shared';

// Cursors are opaque to clients: base64url JSON that only this server reads back.
export function encodeCursor(value: Record<string, string>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<K extends string>(cursor: string, keys: readonly K[]): Record<K, string> {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (value && typeof value === 'object' && keys.every((k) => typeof value[k] === 'string')) {
      return value as Record<K, string>;
    }
  } catch {
    // fall through
  }
  throw invalidCursor();
}

export const invalidCursor = () =>
  new AppError(400, 'INVALID_CURSOR', 'cursor is not a value this API returned.', {
    errors: [{ in: 'query', field: 'cursor', message: 'is not a valid cursor' }],
  });
