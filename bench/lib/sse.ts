// A minimal HTTP/1.1 JSON and Server-Sent Events client on node:http, for exact timings (no fetch/undici layers).
import { request, type Agent, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export interface Target {
  host: string;
  port: number;
}

export function target(url: string): Target {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

/** One JSON request; resolves with status and parsed body. */
export function jsonRequest<T>(
  to: Target,
  agent: Agent,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        ...to,
        agent,
        method,
        path,
        headers: { ...headers, ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.end(payload);
  });
}

/**
 * Opens an SSE stream and calls `onEvent` for each event (comments are skipped). Resolves with the HTTP status
 * when the server ends the response; rejects on socket errors. `onOpen` runs when the response headers arrive.
 */
export function readSse(
  to: Target,
  agent: Agent | false,
  path: string,
  headers: Record<string, string>,
  onEvent: (event: SseEvent) => void,
  onOpen?: (res: IncomingMessage) => void,
  timeoutMs = 120_000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ ...to, agent, method: 'GET', path, headers: { ...headers, accept: 'text/event-stream' } }, (res) => {
      onOpen?.(res);
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id: string | undefined;
          let event = 'message';
          const data: string[] = [];
          let sawField = false;
          for (const line of block.split('\n')) {
            if (line === '' || line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') id = value;
            else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
            else continue; // retry: and unknown fields
            sawField = true;
          }
          if (sawField && data.length) onEvent({ id, event, data: data.join('\n') });
        }
      });
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`stream ${path}: no data for ${timeoutMs} ms`)));
    req.end();
  });
}
