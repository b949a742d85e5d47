// Uploads stream: an API process taking twenty 20 MB uploads at once must not hold them in memory. The API runs as
// operators run it (its own process, so its memory is its own to measure); the uploads are generated as streams
// here, never as whole buffers.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder, freePort, isolate, signInOver, type Isolated, type SignedIn } from '@gemini-chat/testkit';
import { API_SERVER, sleep, spawnNode, waitForHttp, type Child } from './support/procs.js';

const UPLOADS = 20;
const FILE_BYTES = 20 * 1000 * 1000;
const CHUNK = 64 * 1024;
const MB = 1024 * 1024;

let iso: Isolated;
let api: Child;
let url: string;

beforeAll(async () => {
  iso = await isolate({ STORAGE_QUOTA_BASIC_BYTES: String(2 * 1024 * MB), LOG_LEVEL: 'warn' });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  api = spawnNode('api', API_SERVER, { ...iso.env, PORT: String(port) });
  await waitForHttp(`${url}/ready`, api);
}, 40_000);

afterAll(async () => {
  await api?.stop('SIGTERM', 10_000);
  await iso?.cleanup();
});

/** Resident memory of a process, in bytes. */
const rssOf = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
};

/** `size` bytes of printable text made chunk by chunk (different for every seed), with their sha256. */
function textStream(size: number, seed: number): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash('sha256');
  let sent = 0;
  let resolve!: (hex: string) => void;
  const sha256 = new Promise<string>((ok) => (resolve = ok));
  const stream = new Readable({
    read() {
      if (sent >= size) {
        resolve(hash.digest('hex'));
        this.push(null);
        return;
      }
      const length = Math.min(CHUNK, size - sent);
      const chunk = Buffer.alloc(length, `upload ${seed} at ${sent} `);
      hash.update(chunk);
      sent += length;
      this.push(chunk);
    },
  });
  return { stream, sha256 };
}

/** One upload over a real socket, its body streamed: the file part and its multipart framing. */
function streamUpload(user: SignedIn, seed: number): Promise<{ status: number; body: { id?: string; sha256?: string; sizeBytes?: number }; sent: Promise<string> }> {
  const boundary = `----memory${seed}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big-${seed}.txt"\r\nContent-Type: text/plain\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { stream, sha256 } = textStream(FILE_BYTES, seed);
  return new Promise((resolve, reject) => {
    const req = request(`${url}/files`, {
      method: 'POST',
      headers: {
        ...user.auth,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + FILE_BYTES + tail.length),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}'), sent: sha256 }));
    });
    req.write(head);
    stream.on('end', () => req.end(tail));
    stream.pipe(req, { end: false });
  });
}

describe('an API process taking many large uploads at once', () => {
  it(`stores ${UPLOADS} parallel ${FILE_BYTES / 1e6} MB uploads with their sha256 while its memory grows by under 50 MB`, async () => {
    const user = await signInOver(url);
    const pid = api.process.pid!;
    // Warm up: the upload path's code is loaded and compiled before idle memory is measured.
    const warm = await uploadWarmUpFile(user);
    expect(warm).toBe(201);
    await sleep(500);
    const idle = rssOf(pid);

    let peak = idle;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssOf(pid));
        await sleep(25);
      }
    })();
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: UPLOADS }, (_, i) => streamUpload(user, i)));
    sampling = false;
    await sampler;

    for (const result of results) {
      expect(result.status, JSON.stringify(result.body)).toBe(201);
      expect(result.body.sizeBytes).toBe(FILE_BYTES);
      expect(result.body.sha256).toBe(await result.sent);
    }
    const stored = filesUnder(iso.filesDir).filter((path) => path.startsWith(`files/${user.userId}/`) && !path.includes('.partial-'));
    expect(stored).toHaveLength(UPLOADS + 1);
    const growth = peak - idle;
    console.info(`upload-memory: ${UPLOADS} × ${FILE_BYTES / 1e6} MB in ${Date.now() - started} ms; RSS idle ${Math.round(idle / MB)} MB, peak ${Math.round(peak / MB)} MB`);
    expect(growth).toBeLessThan(50 * MB);
  }, 180_000);
});

async function uploadWarmUpFile(user: SignedIn): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob(['warm up']), 'warm.txt');
  const res = await fetch(`${url}/files`, { method: 'POST', headers: user.auth, body: form });
  await res.arrayBuffer();
  return res.status;
}
