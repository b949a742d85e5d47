// The ceiling: a bare Fastify server (same Fastify as the API, same Node, its own process) whose one route
// answers GET /chatroom with the exact JSON body of the API's cached list page, sent as a pre-serialised string
// like the API does. No auth, no Redis, no hooks: what the API could do if its own work cost nothing.
//   node --import tsx bench/ceiling-server.ts <body-file> <port>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface MinimalReply {
  type(value: string): MinimalReply;
  send(payload: string): MinimalReply;
}
interface MinimalFastify {
  get(path: string, handler: (request: unknown, reply: MinimalReply) => MinimalReply): void;
  listen(options: { host: string; port: number }): Promise<string>;
  close(): Promise<void>;
}

// Fastify is a dependency of packages/api (not of the root): load that very copy.
const requireFromApi = createRequire(new URL('../packages/api/package.json', import.meta.url));
const { fastify } = requireFromApi('fastify') as { fastify: (options: object) => MinimalFastify };

const [bodyFile, portArg] = process.argv.slice(2);
if (!bodyFile || !portArg) {
  console.error('usage: node --import tsx bench/ceiling-server.ts <body-file> <port>');
  process.exit(2);
}
const body = readFileSync(bodyFile, 'utf8');

const app = fastify({ logger: false });
app.get('/chatroom', (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
app.get('/health', (_request, reply) => reply.type('application/json; charset=utf-8').send('{"status":"ok"}'));
await app.listen({ host: '127.0.0.1', port: Number(portArg) });

const shutdown = () => void app.close().then(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
