// Builds the page and serves it, telling it where the API is (config.js):
//   pnpm exec tsx examples/web-chat/serve.ts --api http://127.0.0.1:3000 [--port 5173] [--host 127.0.0.1]
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildWebChat, DEFAULT_OUT_DIR } from './build.js';

export interface WebChatServer {
  /** Where the page is, e.g. http://127.0.0.1:5173 */
  url: string;
  /** Read on every request of config.js: may be changed while the server runs. */
  config: { apiUrl: string };
  close(): Promise<void>;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** A static server for the page: exactly these files, nothing else from the disk. */
export async function startWebChatServer(options: {
  apiUrl: string;
  port?: number;
  host?: string;
  /** Where buildWebChat() wrote app.js. */
  distDir?: string;
}): Promise<WebChatServer> {
  const dist = (options.distDir ?? DEFAULT_OUT_DIR).replace(/\/+$/, '');
  const config = { apiUrl: options.apiUrl };
  const files: Record<string, { path: string; type: string }> = {
    '/': { path: here('./index.html'), type: 'text/html; charset=utf-8' },
    '/index.html': { path: here('./index.html'), type: 'text/html; charset=utf-8' },
    '/style.css': { path: here('./style.css'), type: 'text/css; charset=utf-8' },
    '/app.js': { path: `${dist}/app.js`, type: 'text/javascript; charset=utf-8' },
    '/app.js.map': { path: `${dist}/app.js.map`, type: 'application/json' },
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page.invalid').pathname;
    const send = (status: number, type: string, body: string | Buffer) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'text/plain', 'Method not allowed');
    if (path === '/config.js') {
      return send(200, 'text/javascript; charset=utf-8', `window.GEMINI_CHAT_CONFIG = ${JSON.stringify({ apiUrl: config.apiUrl })};\n`);
    }
    const file = files[path];
    if (!file) return send(404, 'text/plain', 'Not found');
    readFile(file.path).then(
      (body) => send(200, file.type, body),
      () => send(500, 'text/plain', `${path} is missing: run examples/web-chat/build.ts`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    config,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      api: { type: 'string', default: 'http://127.0.0.1:3000' },
      port: { type: 'string', default: '5173' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  await buildWebChat();
  const server = await startWebChatServer({ apiUrl: values.api, port: Number(values.port), host: values.host });
  console.log(`Web chat on ${server.url} (API ${values.api}). Ctrl-C to stop.`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
