import { notFound, type Quota, type Store, type UserRow } from '@gemini-chat/shared';
import type { DailyUsage, Me, UpdateMeBody } from '../schemas/user.schemas.js';
import { toUser } from './mappers.js';

export function createUserService(store: Store, quota: Quota) {
  async function usage(row: UserRow): Promise<DailyUsage> {
    // The quota's day (the Redis server's), so both halves describe the same day whatever this host's clock says.
    const current = await quota.usage(row.id, row.tier);
    const tokens = await store.messages.usageOn(row.id, current.day);
    return { used: current.used, limit: current.limit, resetsAt: current.resetsAt.toISOString(), ...tokens };
  }

  return {
    async me(userId: string): Promise<Me> {
      // The count first: Redis names the day, so the user and that day's token counters are one Postgres statement.
      const current = await quota.counted(userId);
      const found = await store.users.findWithTokensOn(userId, current.day);
      if (!found) throw notFound('user');
      const { inputTokens, outputTokens, ...row } = found;
      return {
        ...toUser(row),
        usage: { used: current.used, limit: quota.limitOf(row.tier), resetsAt: current.resetsAt.toISOString(), inputTokens, outputTokens },
      };
    },

    async update(userId: string, patch: UpdateMeBody): Promise<Me> {
      const row = await store.users.update(userId, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.email !== undefined ? { email: patch.email === null ? null : patch.email.toLowerCase() } : {}),
      });
      if (!row) throw notFound('user');
      return { ...toUser(row), usage: await usage(row) };
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
