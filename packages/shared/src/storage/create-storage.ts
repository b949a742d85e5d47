import type { StorageConfig } from '../config/config.js';
import { createFilesystemStorage } from './filesystem-storage.js';
import type { ObjectStorage } from './object-storage.js';
import { createS3Storage } from './s3-storage.js';

/** The configured storage driver. */
export function createStorage(config: StorageConfig): ObjectStorage {
  switch (config.driver) {
    case 'filesystem':
      return createFilesystemStorage(config.dir);
    case 's3':
      return createS3Storage(config);
  }
}
