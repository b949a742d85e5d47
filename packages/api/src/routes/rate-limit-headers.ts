import type { QuotaState } from '@gemini-chat/shared';

/** IETF RateLimit headers describing the daily prompt quota (omitted when the tier is unlimited). */
export function rateLimitHeaders(quota: QuotaState): Record<string, string> {
  if (quota.limit === null) return {};
  return {
    'ratelimit-limit': String(quota.limit),
    'ratelimit-remaining': String(Math.max(0, quota.limit - quota.used)),
    'ratelimit-reset': String(Math.max(0, Math.ceil((Date.parse(quota.resetsAt) - Date.now()) / 1000))),
  };
}
