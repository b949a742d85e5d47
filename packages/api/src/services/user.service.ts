import { notFound, type Quota, type QuotaCount, type Store, type Tier } from '@gemini-chat/shared';
import type { DailyUsage, Me, UpdateMeBody } from '../schemas/user.schemas.js';
import { toUser } from './mappers.js';

export function createUserService(store: Store, quota: Quota) {
  // The quota's day (the Redis server's), so both halves describe the same day whatever this host's clock says.
  const dailyUsage = (current: QuotaCount, tier: Tier, tokens: { inputTokens: number; outputTokens: number }): DailyUsage => ({
    used: current.used,
    limit: quota.limitOf(tier),
    resetsAt: current.resetsAt.toISOString(),
    ...tokens,
  });

  return {
    async me(userId: string): Promise<Me> {
      // The count first: Redis names the day, so the user and that day's token counters are one Postgres statement.
      const current = await quota.counted(userId);
      const found = await store.users.findWithTokensOn(userId, current.day);
      if (!found) throw notFound('user');
      const { inputTokens, outputTokens, ...row } = found;
      return { ...toUser(row), usage: dailyUsage(current, row.tier, { inputTokens, outputTokens }) };
    },

    async update(userId: string, patch: UpdateMeBody): Promise<Me> {
      const row = await store.users.update(userId, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.email !== undefined ? { email: patch.email === null ? null : patch.email.toLowerCase() } : {}),
      });
      if (!row) throw notFound('user');
      const current = await quota.counted(row.id);
      return { ...toUser(row), usage: dailyUsage(current, row.tier, await store.messages.usageOn(row.id, current.day)) };
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
