import type { StorageConfig } from '../config/config.js';
import { createFilesystemStorage } from './filesystem-storage.js';
import type { ObjectStorage } from './object-storage.js';

/** The configured storage driver. */
export function createStorage(config: StorageConfig): ObjectStorage {
  switch (config.driver) {
    case 'filesystem':
      return createFilesystemStorage(config.dir);
    case 's3':
      throw new Error('The s3 storage driver is not built yet');
  }
}
