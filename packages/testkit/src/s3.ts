import S3rver from '@20minutes/s3rver';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The environment that points the app's s3 storage driver at this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

// s3rver's one built-in account.
const ACCESS_KEY = 'S3RVER';

/**
 * An S3-compatible server on a random loopback port, keeping its objects in a temporary directory of its own, with
 * one fresh bucket. close() stops it and removes the directory.
 */
export async function startS3Server(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 's3-test-'));
  const bucket = `test-${randomUUID().slice(0, 8)}`;
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    vhostBuckets: false,
    // Current SDKs sign bucket-level requests (ListObjectsV2) as `/<bucket>/`, which this server canonicalises as
    // `/<bucket>`, so it would refuse them all. An unknown access key is still refused.
    allowMismatchedSignatures: true,
    configureBuckets: [{ name: bucket }],
  });
  // Ahead of s3rver's own routes, which answer these two multipart calls with NotImplemented / MethodNotAllowed.
  server.middleware.unshift(multipartUploadsShim(directory));
  let address: { port: number };
  try {
    address = (await server.run()) as { port: number };
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    region: 'us-east-1',
    accessKeyId: ACCESS_KEY,
    secretAccessKey: ACCESS_KEY,
    env: {
      STORAGE_DRIVER: 's3',
      S3_BUCKET: bucket,
      S3_REGION: 'us-east-1',
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: ACCESS_KEY,
      S3_SECRET_ACCESS_KEY: ACCESS_KEY,
      S3_FORCE_PATH_STYLE: 'true',
    },
    async close() {
      const closed = server.close();
      // Keep-alive sockets of clients that were not closed would hold close() open.
      server.httpServer?.closeAllConnections();
      await closed;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
}

/**
 * ListMultipartUploads and AbortMultipartUpload over s3rver's own layout (an upload is the directory
 * `<bucket>/._S3rver_uploads/<uploadId>` holding its key and its parts; the key file is written once, when the
 * upload is initiated). Without them an aborted upload could not be removed nor a leftover one found.
 */
function multipartUploadsShim(directory: string) {
  return async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    // Bucket-level requests come as `/<bucket>/`, object requests as `/<bucket>/<key>`.
    const [, bucket, ...keyParts] = ctx.path.replace(/\/$/, '').split('/').map((segment) => decodeURIComponent(segment));
    if (!bucket) return next();
    const uploadsDir = join(directory, bucket, '._S3rver_uploads');
    const uploadId = typeof ctx.query.uploadId === 'string' ? ctx.query.uploadId : undefined;

    if (ctx.method === 'GET' && keyParts.length === 0 && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const uploads: Array<{ key: string; id: string; initiated: Date }> = [];
      for (const id of await readdir(uploadsDir).catch(() => [] as string[])) {
        const keyFile = join(uploadsDir, id, 'key');
        const [key, info] = await Promise.all([readFile(keyFile, 'utf8').catch(() => undefined), stat(keyFile).catch(() => undefined)]);
        if (key !== undefined && info && key.startsWith(prefix)) uploads.push({ key, id, initiated: info.mtime });
      }
      uploads.sort((a, b) => (a.key === b.key ? a.id.localeCompare(b.id) : a.key < b.key ? -1 : 1));
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xml(bucket)}</Bucket><Prefix>${xml(prefix)}</Prefix><MaxUploads>${uploads.length}</MaxUploads><IsTruncated>false</IsTruncated>` +
        uploads
          .map((u) => `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated></Upload>`)
          .join('') +
        '</ListMultipartUploadsResult>';
      return;
    }

    if (ctx.method === 'DELETE' && keyParts.length > 0 && uploadId !== undefined) {
      const key = keyParts.join('/');
      const stored = /^[0-9a-f]+$/.test(uploadId) ? await readFile(join(uploadsDir, uploadId, 'key'), 'utf8').catch(() => undefined) : undefined;
      if (stored !== key) {
        ctx.status = 404;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${xml(uploadId)}</UploadId></Error>`;
        return;
      }
      await rm(join(uploadsDir, uploadId), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }

    return next();
  };
}

const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
