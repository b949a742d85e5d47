import { createHash } from 'node:crypto';

// Ids in the collection are derived from names, never random, so regenerating from the same spec gives the
// same bytes.

/** A UUID-shaped id derived from a name (the SHA-1 name-based layout of RFC 9562, version 5). */
export function stableId(name: string): string {
  const hex = createHash('sha1').update(`gemini-chat-postman:${name}`).digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}
