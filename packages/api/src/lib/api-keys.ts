import { createHash, randomBytes } from 'node:crypto';
import type { ActiveApiKey, ApiKeyRepository } from '@gemini-chat/shared';
import type { LocalCache } from './local-cache.js';

/** Every API key starts with this, so a bearer credential is known to be a key (not a JWT) by its first bytes. */
export const API_KEY_PREFIX = 'gck_';
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_BYTES = 32;
/** 62^43 > 2^256 > 62^42: every 32-byte secret fits in 43 base62 digits, so every key has the same length. */
const SECRET_DIGITS = 43;
const KEY_FORMAT = /^gck_[0-9A-Za-z]{43}$/;
/** Characters of the key kept (and shown) to tell keys apart: `gck_` and 6 digits, 36 of its 256 bits. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;

function base62(bytes: Buffer): string {
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let digits = '';
  while (n > 0n) {
    digits = ALPHABET[Number(n % 62n)] + digits;
    n /= 62n;
  }
  return digits.padStart(SECRET_DIGITS, ALPHABET[0]);
}

/** A new key (crypto randomness), what is stored of it, and its display prefix. */
export function generateApiKey(): { key: string; hash: string; prefix: string } {
  const key = API_KEY_PREFIX + base62(randomBytes(SECRET_BYTES));
  return { key, hash: hashApiKey(key), prefix: key.slice(0, DISPLAY_PREFIX_LENGTH) };
}

/**
 * SHA-256, not a password hash: a key carries 256 random bits, so no dictionary or brute force gets anywhere near
 * it, and a slow salted hash (argon2, as for passwords) would only cost CPU on every request. An unsalted digest
 * is also what lets the key be found by an indexed lookup of its hash.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export const isWellFormedApiKey = (token: string): boolean => KEY_FORMAT.test(token);

/** How many keys a user may hold at once (expired ones do not count). */
export const MAX_LIVE_API_KEYS = 10;

/**
 * Keys recently checked by this API process, so a request with a key needs no Postgres round trip. They share the
 * session cache's channel and are grouped by user like sessions, so what drops a user's sessions everywhere (a
 * tier change, the account's deletion) drops their keys too, and a revocation drops one key on every process.
 */
export function createApiKeyCache(
  local: LocalCache<ActiveApiKey>,
  keys: Pick<ApiKeyRepository, 'ownerOf' | 'findActive' | 'touch'>,
  onTouchFailed: (err: unknown) => void,
) {
  // Which user a key hash belongs to never changes, so it is kept without announcements (bounded; oldest first).
  const owners = new Map<string, string>();
  const MAX_OWNERS = 50_000;
  // Last time this process recorded each key's use: at most one write a minute per key and process.
  const touched = new Map<string, number>();
  const TOUCH_EVERY_MS = 60_000;
  const entry = (keyHash: string) => `key:${keyHash}`;

  return {
    /** The live key with this hash, with its user's current tier, or undefined (unknown, revoked or expired). */
    async find(keyHash: string): Promise<ActiveApiKey | undefined> {
      let owner = owners.get(keyHash);
      if (owner === undefined) {
        owner = await keys.ownerOf(keyHash);
        if (owner === undefined) return undefined;
        if (owners.size >= MAX_OWNERS) owners.delete(owners.keys().next().value!);
        owners.set(keyHash, owner);
      }
      const found = await local.get(owner, entry(keyHash), () => keys.findActive(keyHash));
      // A remembered key is held no longer than its expiry (see the cache's expiresAt), but check anyway.
      if (!found || (found.expiresAt && found.expiresAt.getTime() <= Date.now())) return undefined;
      return found;
    },

    /** Records that the key was used, without making the request wait for it. */
    used(key: ActiveApiKey): void {
      const now = Date.now();
      if ((touched.get(key.keyId) ?? 0) > now - TOUCH_EVERY_MS) return;
      if (touched.size >= MAX_OWNERS) touched.delete(touched.keys().next().value!);
      touched.set(key.keyId, now);
      keys.touch(key.keyId).catch(onTouchFailed);
    },

    /** Call after the key's deletion has committed: every process forgets it at once. */
    keyRevoked: (userId: string, keyHash: string) => local.announce(userId, entry(keyHash)),
  };
}
export type ApiKeyCache = ReturnType<typeof createApiKeyCache>;
