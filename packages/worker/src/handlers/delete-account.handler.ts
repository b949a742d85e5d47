import { fileStorageKey, type Logger, type ObjectStorage, type Store } from '@gemini-chat/shared';
import type { JobContext } from './generate-reply.handler.js';

/** Objects removed at once: enough to be quick on S3, few enough not to flood it. */
const PARALLEL_DELETES = 8;

/**
 * The second half of an account deletion (the API marked the user deleted and revoked every session): every
 * stored object of the user goes, then the user's row, whose deletion cascades to all the rest. Safe to run any
 * number of times and to kill at any point: deleting an object that is gone is no error, and the row, the only
 * record of which objects are the user's, goes last, so a re-run finds whatever is left. A user not marked
 * deleted is never touched.
 */
export function createDeleteAccountHandler(deps: { store: Store; storage: ObjectStorage; log: Logger }) {
  const { store, storage, log } = deps;
  return async function handle(payload: { userId: string }, _ctx: JobContext): Promise<void> {
    const { userId } = payload;
    if (!(await store.accounts.isPendingDeletion(userId))) return;
    const keys = new Set(await store.accounts.storageKeys(userId));
    // Also what has no row: an upload that was completing while the account was being deleted.
    for await (const object of storage.list(fileStorageKey(userId, ''))) keys.add(object.key);
    const pending = [...keys];
    for (let i = 0; i < pending.length; i += PARALLEL_DELETES) {
      await Promise.all(pending.slice(i, i + PARALLEL_DELETES).map((key) => storage.delete(key)));
    }
    if (await store.accounts.deleteMarkedUser(userId)) log.info({ userId, objects: pending.length }, 'account deleted');
  };
}
