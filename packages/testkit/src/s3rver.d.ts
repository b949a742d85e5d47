// The package ships no types; this is the part of its API the testkit uses.
declare module '@20minutes/s3rver' {
  import type { Server } from 'node:http';

  interface S3rverOptions {
    address?: string;
    port?: number;
    directory?: string;
    silent?: boolean;
    vhostBuckets?: boolean;
    allowMismatchedSignatures?: boolean;
    configureBuckets?: Array<{ name: string }>;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    middleware: unknown[];
    httpServer: Server | undefined;
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
