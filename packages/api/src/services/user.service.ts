import { notFound, type Quota, type QuotaCount, type Store, type Tier } from '@gemini-chat/shared';
import type { DailyUsage, Me, UpdateMeBody } from '../schemas/user.schemas.js';
import type { UserPages } from '../lib/user-pages.js';
import { toUser } from './mappers.js';

export function createUserService(
  store: Store,
  quota: Quota,
  /** This process's copies of GET /user/me, dropped on every change of the user's rows or quota count. */
  pages: UserPages,
) {
  // The quota's day (the Redis server's), so both halves describe the same day whatever this host's clock says.
  const dailyUsage = (current: QuotaCount, tier: Tier, tokens: { inputTokens: number; outputTokens: number }): DailyUsage => ({
    used: current.used,
    limit: quota.limitOf(tier),
    resetsAt: current.resetsAt.toISOString(),
    ...tokens,
  });

  async function load(userId: string): Promise<{ me: Me; current: QuotaCount }> {
    // The count first: Redis names the day, so the user and that day's token counters are one Postgres statement.
    const current = await quota.counted(userId);
    const found = await store.users.findWithTokensOn(userId, current.day);
    if (!found) throw notFound('user');
    const { inputTokens, outputTokens, ...row } = found;
    return { me: { ...toUser(row), usage: dailyUsage(current, row.tier, { inputTokens, outputTokens }) }, current };
  }

  return {
    async me(userId: string): Promise<Me> {
      return (await load(userId)).me;
    },

    /**
     * GET /user/me's JSON body (`serialize`: the route's), from this process's memory when it can be trusted, until
     * the quota's day ends at the latest.
     */
    async meBody(userId: string, serialize: (me: Me) => string): Promise<string> {
      const page = await pages.get(userId, 'me', async () => {
        const { me, current } = await load(userId);
        return { body: serialize(me), expiresAt: quota.dayEndsLocally(current) };
      });
      return page.body;
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
