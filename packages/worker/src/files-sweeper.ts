import type { FilesConfig, Logger, ObjectStorage, StoredObject, Store } from '@gemini-chat/shared';
import { every } from './periodic.js';

const BATCH = 500;
const FILES_PREFIX = 'files/';

export interface FilesSweepResult {
  /** Stored objects removed: no file row, or the row's file deleted. */
  removedObjects: number;
  /** Files whose bytes were gone, now marked deleted with their size given back. */
  markedMissing: number;
  /** Leftovers of puts a killed process never finished (temporary files, open multipart uploads). */
  removedIncomplete: number;
}

/**
 * Keeps stored objects and file rows in step, which no transaction can: the bytes are stored before their row
 * exists and removed after their row is marked deleted, so a crash in between leaves an object without a live row
 * (removed here once older than the grace period, which covers uploads still finishing), and storage that lost an
 * object leaves a row without bytes (marked deleted here, its size given back to its owner once); a put cut short
 * by a killed process leaves an incomplete upload (removed here after the same grace period). Every step is
 * safe to run twice or from several workers at once: deletes are idempotent and a file is marked deleted only
 * while it is not.
 */
export function createFilesSweeper(deps: { attachments: Store['attachments']; storage: ObjectStorage; config: FilesConfig; log: Logger }) {
  const { attachments, storage, config, log } = deps;

  async function sweep(): Promise<FilesSweepResult> {
    const started = new Date();
    const graceCutoff = started.getTime() - config.orphanGraceSeconds * 1000;
    let removedObjects = 0;
    let markedMissing = 0;

    // Objects first, in batches: one query tells which keys of a batch belong to a live file.
    const listed = new Set<string>();
    let batch: StoredObject[] = [];
    const removeOrphans = async () => {
      const live = await attachments.liveKeysAmong(batch.map((object) => object.key));
      for (const object of batch) {
        if (live.has(object.key) || object.lastModified.getTime() > graceCutoff) continue;
        await storage.delete(object.key);
        removedObjects++;
      }
      batch = [];
    };
    for await (const object of storage.list(FILES_PREFIX)) {
      listed.add(object.key);
      batch.push(object);
      if (batch.length >= BATCH) await removeOrphans();
    }
    await removeOrphans();

    // Then live files that existed before the listing began (their object, stored before the row, was there to
    // be listed) and were not listed. Each is checked once more on its own before it is given up: a file deleted
    // meanwhile is left to its delete.
    for (let after: string | null = null; ; ) {
      const page = await attachments.liveFilesPage(started, after, BATCH);
      for (const file of page) {
        if (listed.has(file.storage_key) || (await storage.stat(file.storage_key))) continue;
        if (await attachments.markMissing(file.id)) markedMissing++;
      }
      if (page.length < BATCH) break;
      after = page.at(-1)!.id;
    }

    // The same grace as objects without a row: an upload still streaming is not a leftover.
    const removedIncomplete = await storage.removeIncomplete(new Date(graceCutoff));

    if (removedObjects || markedMissing || removedIncomplete) {
      log.warn({ removedObjects, markedMissing, removedIncomplete }, 'files sweep repaired storage and file rows');
    }
    return { removedObjects, markedMissing, removedIncomplete };
  }

  return { sweep, ...every(config.sweepIntervalSeconds * 1000, sweep, log, 'files sweep') };
}
