import { readFileSync } from 'node:fs';

// The contract the SDK tests hold the client to: the committed openapi.json, and which of its operations a test
// file's requests reached.

export interface SentRequest {
  method: string;
  path: string;
  headers: Headers;
}

export const spec = JSON.parse(readFileSync(new URL('../../../../openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { operationId?: string }>>;
};

/** Whether the API was built with billing routes (the spec always has them when emitted by this repository). */
export const hasBilling = '/subscribe/pro' in spec.paths;

/** Operations of the contract none of `sent` reached (`POST /chatroom/{id}/message`); Stripe's webhook excepted. */
export function uncalledOperations(sent: readonly SentRequest[]): string[] {
  const called = [...new Set(sent.map((r) => `${r.method} ${r.path}`))];
  const missing: string[] = [];
  for (const [path, operations] of Object.entries(spec.paths)) {
    const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, operation] of Object.entries(operations)) {
      if (!operation.operationId || operation.operationId === 'receiveStripeWebhook') continue;
      const verb = `${method.toUpperCase()} `;
      if (!called.some((c) => c.startsWith(verb) && pattern.test(c.slice(verb.length)))) missing.push(`${verb}${path}`);
    }
  }
  return missing;
}
