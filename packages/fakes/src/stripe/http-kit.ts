// The little HTTP plumbing the fake needs on top of node:http: a route table, body reading, replies.
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 1024 * 1024;

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Route<C, R = Reply> {
  method: string;
  /** Path with `:name` segments, e.g. `/v1/customers/:id`. */
  path: string;
  handle: (ctx: C, params: Record<string, string>) => R | Promise<R>;
}

export interface CompiledRoute<C, R = Reply> extends Route<C, R> {
  pattern: RegExp;
  names: string[];
}

export function compileRoutes<C, R>(routes: Route<C, R>[]): CompiledRoute<C, R>[] {
  return routes.map((route) => {
    const names: string[] = [];
    const source = route.path
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    return { ...route, pattern: new RegExp(`^${source}$`), names };
  });
}

export type RouteMatch<C, R> =
  | { kind: 'found'; route: CompiledRoute<C, R>; params: Record<string, string> }
  | { kind: 'wrong-method' }
  | { kind: 'none' };

export function matchRoute<C, R>(routes: CompiledRoute<C, R>[], method: string, path: string): RouteMatch<C, R> {
  let pathMatched = false;
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    pathMatched = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1] ?? '');
    });
    return { kind: 'found', route, params };
  }
  return pathMatched ? { kind: 'wrong-method' } : { kind: 'none' };
}

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function send(res: ServerResponse, reply: Reply): void {
  const body = reply.body ?? '';
  res.writeHead(reply.status, { 'content-length': String(Buffer.byteLength(body)), ...reply.headers });
  res.end(body);
}

export const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  // Stripe pretty-prints its responses.
  body: JSON.stringify(value, null, 2),
});

export const html = (status: number, body: string): Reply => ({
  status,
  headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  body,
});

export const redirect = (location: string): Reply => ({ status: 303, headers: { location } });

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
