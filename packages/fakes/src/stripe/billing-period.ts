import type { Interval } from './billing-state.js';

const DAY = 86_400;

/**
 * The end of the n-th billing interval after `anchor` (unix seconds). Months are counted from the anchor, not
 * chained period to period, so a subscription anchored on the 31st bills on Feb 28 and then on Mar 31, as
 * Stripe does.
 */
export function periodBoundary(anchor: number, interval: Interval, intervalCount: number, n: number): number {
  const steps = intervalCount * n;
  if (interval === 'day') return anchor + steps * DAY;
  if (interval === 'week') return anchor + steps * 7 * DAY;
  const months = interval === 'year' ? steps * 12 : steps;
  const start = new Date(anchor * 1000);
  const targetMonth = start.getUTCMonth() + months;
  const year = start.getUTCFullYear() + Math.floor(targetMonth / 12);
  const month = ((targetMonth % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(start.getUTCDate(), lastDay);
  return Math.floor(
    Date.UTC(year, month, day, start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds()) / 1000,
  );
}
