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

/** A UUID in its canonical text form (ids taken from cursors, tokens and paths are checked before use). */
export const isUuid = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** Where a newest-first page ordered by (created_at, id) goes on. */
export interface CreatedAtPosition {
  createdAt: Date;
  id: string;
}

/** The position in a cursor written by newestFirstPage; INVALID_CURSOR for anything else. */
export function decodeCreatedAtCursor(cursor: string): CreatedAtPosition {
  const decoded = decodeCursor(cursor, ['t', 'id'] as const);
  const createdAt = new Date(decoded.t);
  if (Number.isNaN(createdAt.getTime()) || !isUuid(decoded.id)) throw invalidCursor();
  return { createdAt, id: decoded.id };
}

/** One page from `limit + 1` rows read newest first: the extra row only says whether there is a next page. */
export function newestFirstPage<R extends { created_at: Date; id: string }, T>(rows: R[], limit: number, map: (row: R) => T) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(map),
    nextCursor: rows.length > limit && last ? encodeCursor({ t: last.created_at.toISOString(), id: last.id }) : null,
  };
}
