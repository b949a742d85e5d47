import { conflict, notFound, type Store } from '@gemini-chat/shared';
import { generateApiKey, MAX_LIVE_API_KEYS, type ApiKeyCache } from '../lib/api-keys.js';
import type { ApiKeyList, CreateApiKeyBody, CreatedApiKey } from '../schemas/api-key.schemas.js';
import { toApiKey } from './mappers.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export function createApiKeyService(store: Store, cache: Pick<ApiKeyCache, 'keyRevoked'>) {
  return {
    async create(userId: string, body: CreateApiKeyBody): Promise<CreatedApiKey> {
      const { key, hash, prefix } = generateApiKey();
      const expiresAt = body.expiresInDays === undefined ? null : new Date(Date.now() + body.expiresInDays * DAY_MS);
      const row = await store.transaction(async (tx) => {
        // Creates for one user take turns on the user's row, so parallel requests cannot each see 9 keys and
        // together make 12.
        if (!(await tx.apiKeys.lockOwner(userId))) throw notFound('user');
        if ((await tx.apiKeys.countLive(userId)) >= MAX_LIVE_API_KEYS) {
          throw conflict('API_KEY_LIMIT_REACHED', `At most ${MAX_LIVE_API_KEYS} API keys at once; delete one first.`);
        }
        return tx.apiKeys.create({ userId, name: body.name.trim(), prefix, keyHash: hash, expiresAt });
      });
      return { ...toApiKey(row), key };
    },

    async list(userId: string): Promise<ApiKeyList> {
      return { items: (await store.apiKeys.list(userId)).map(toApiKey) };
    },

    async revoke(userId: string, id: string): Promise<void> {
      const keyHash = await store.apiKeys.delete(id, userId);
      if (keyHash === undefined) throw notFound('API key');
      await cache.keyRevoked(userId, keyHash);
    },
  };
}
export type ApiKeyService = ReturnType<typeof createApiKeyService>;
