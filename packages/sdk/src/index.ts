import createFetchClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, paths, operations } from './schema.js';
/** Named wire types: `Schemas['Chatroom']`, `Schemas['Problem']`, ... */
export type Schemas = components['schemas'];

export interface ClientOptions {
  baseUrl: string;
  fetch?: typeof globalThis.fetch;
  /** Returns the current access token, if any; sent as `Authorization: Bearer`. */
  accessToken?: () => string | undefined;
}

/** A typed client for every operation in openapi.json. */
export function createClient(options: ClientOptions): Client<paths> {
  const client = createFetchClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  client.use({
    onRequest({ request }) {
      const token = options.accessToken?.();
      if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  });
  return client;
}
