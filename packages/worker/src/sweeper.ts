import { jobIdFor, type Config, type JobProducer, type Logger, type Quota, type Store } from '@gemini-chat/shared';
import { every } from './periodic.js';

const BATCH = 100;
const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600_000;

/**
 * The safety net between Postgres and Redis, which cannot share a transaction: a reply stored but never
 * enqueued (Redis failed right after the commit) or whose job vanished (Redis lost data) is enqueued again.
 * Job ids are derived from the reply, so a reply whose job still exists is not enqueued twice. Quota refunds that
 * Redis refused are given back (idempotently, per reply). It also deletes expired idempotency keys. Any number of
 * workers may run it at once.
 */
export function createSweeper(deps: {
  store: Store;
  producer: JobProducer;
  quota: Quota;
  config: Config['worker'];
  log: Logger;
}) {
  const { store, producer, quota, config, log } = deps;

  async function sweep(): Promise<number> {
    const stale = await store.messages.findStalePending(new Date(Date.now() - config.sweepPendingAfterSeconds * 1000), BATCH);
    let requeued = 0;
    for (const message of stale) {
      const jobId = jobIdFor['generate-reply']({ assistantMessageId: message.id });
      const state = await producer.queue.getJobState(jobId);
      if (state === 'unknown' || state === 'completed' || state === 'failed') {
        // completed/failed with the reply still pending means the run ended without finishing it: retry it.
        if (state !== 'unknown') await producer.queue.remove(jobId).catch(() => 0);
        await producer.enqueue('generate-reply', { assistantMessageId: message.id });
        requeued++;
      }
    }
    if (requeued) log.warn({ requeued }, 'sweeper re-enqueued replies whose job was missing');
    // Account deletions whose job vanished (Redis failed after the API's commit) or gave up: run them again.
    const deletions = await store.accounts.pendingDeletions(new Date(Date.now() - config.sweepPendingAfterSeconds * 1000), BATCH);
    for (const userId of deletions) {
      const jobId = jobIdFor['delete-account']({ userId });
      const state = await producer.queue.getJobState(jobId);
      if (state === 'unknown' || state === 'completed' || state === 'failed') {
        if (state !== 'unknown') await producer.queue.remove(jobId).catch(() => 0);
        await producer.enqueue('delete-account', { userId });
        log.warn({ userId }, 'sweeper re-enqueued an account deletion');
      }
    }
    await store.idempotency.deleteOlderThan(new Date(Date.now() - IDEMPOTENCY_KEY_TTL_MS));
    const owed = await store.messages.findPendingRefunds(BATCH);
    for (const row of owed) {
      if (row.quota_day) await quota.refund(row.user_id, row.quota_day, row.id);
      await store.messages.refundApplied(row.id);
    }
    if (owed.length) log.info({ refunds: owed.length }, 'sweeper gave back quota refunds Redis had refused');
    return requeued;
  }

  return { sweep, ...every(config.sweepIntervalMs, sweep, log, 'sweep') };
}
