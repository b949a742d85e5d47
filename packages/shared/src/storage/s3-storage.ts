import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import type { StorageConfig } from '../config/config.js';
import { DependencyUnavailableError } from '../errors.js';
import { ObjectNotFoundError, type ObjectStorage } from './object-storage.js';

export type S3StorageConfig = Extract<StorageConfig, { driver: 's3' }>;

/** S3's smallest part size. A put holds about one part in memory at a time, whatever the file's size. */
const PART_SIZE = 5 * 1024 * 1024;

// Objects live in one bucket that belongs to this application. A put goes through lib-storage's Upload: a body
// smaller than one part is a single PutObject, a larger one a multipart upload, and S3 makes an object visible
// only when the whole of it is stored, so readers never see a partial one. An upload that fails is aborted.
export function createS3Storage(config: S3StorageConfig): ObjectStorage {
  const client = new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    forcePathStyle: config.forcePathStyle,
    // Recent SDKs add a CRC32 checksum to every upload by default, sent as an aws-chunked body with trailers, and
    // ask for checksums back. Many S3-compatible servers (older MinIO, local test servers, some gateways) reject
    // or mangle those. Integrity does not depend on them: SigV4 signs the SHA-256 of every part we send (parts
    // are buffers, so the hash is computed up front) and the service refuses a body that does not match it.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    // Without these a store that accepts connections but never answers would hang a request forever. The socket
    // timeout is an idle timeout, so a long but moving transfer is not cut off.
    requestHandler: { connectionTimeout: 3_000, socketTimeout: 30_000 },
  });
  const bucket = config.bucket;

  return {
    driver: 's3',

    async put(key, body: Readable, contentType) {
      // The body's own failure (a client that aborts, a size cap that trips) is what the caller must see, not the
      // upload's consequence of it.
      let bodyError: unknown;
      const onError = (err: unknown) => {
        bodyError ??= err;
      };
      body.on('error', onError);
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
        partSize: PART_SIZE,
        // One part in flight: memory stays at about one part per upload, and no part is still being sent when a
        // failing body makes the upload abort.
        queueSize: 1,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (err) {
        // Upload aborts its multipart upload before rejecting. A body destroyed without an error reaches us only
        // as a premature close, which is the body's failure too, not the store's.
        throw bodyError ?? ((err as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' ? err : storageError(err));
      } finally {
        body.off('error', onError);
      }
    },

    async get(key, range) {
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
        );
        if (!(out.Body instanceof Readable)) throw new Error('S3 GetObject returned no readable body');
        return out.Body;
      } catch (err) {
        throw notFoundOr(key, err);
      }
    },

    async stat(key) {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { key, sizeBytes: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
      } catch (err) {
        const mapped = notFoundOr(key, err);
        if (mapped instanceof ObjectNotFoundError) return undefined;
        throw mapped;
      }
    },

    async delete(key) {
      // S3 answers 204 whether or not the key existed.
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        throw storageError(err);
      }
    },

    async *list(prefix) {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        } catch (err) {
          throw storageError(err);
        }
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          yield { key: object.Key, sizeBytes: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async removeIncomplete(olderThan) {
      // A process killed mid-put leaves its multipart upload open; its parts are billed until aborted.
      let removed = 0;
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
          );
          for (const upload of page.Uploads ?? []) {
            if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= olderThan) continue;
            try {
              await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }));
              removed++;
            } catch (err) {
              // Completed or aborted by its own process since the listing: nothing left to remove.
              if (!(err instanceof S3ServiceException && err.name === 'NoSuchUpload')) throw err;
            }
          }
          keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
          uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
        } while (keyMarker);
      } catch (err) {
        throw storageError(err);
      }
      return removed;
    },

    async close() {
      client.destroy();
    },
  };
}

function notFoundOr(key: string, err: unknown): Error {
  // GetObject says NoSuchKey; HeadObject has no body, so only its status says 404.
  if (err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404)) {
    return new ObjectNotFoundError(key);
  }
  return storageError(err);
}

/**
 * A refusal that is our fault (bad credentials, missing bucket, a malformed request, a call the store does not
 * implement) stays as it is, a 500 that someone must fix. Everything else (no connection, a timeout, a 5xx or
 * throttling answer after the SDK's retries) means the store is unavailable: a 503 the client may retry.
 */
function storageError(err: unknown): Error {
  if (err instanceof DependencyUnavailableError || err instanceof ObjectNotFoundError) return err;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode ?? 0;
    if (err.$fault === 'client' && status < 500 && status !== 429 && status !== 0) return err;
    // A store that does not implement the call will not implement it on retry either.
    if (status === 501) return err;
  }
  return new DependencyUnavailableError('storage', err);
}
