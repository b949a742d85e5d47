import type { Operation, Spec } from './openapi.types.js';
import type { PmRequest } from './postman.types.js';

// The spec's operations, found by the route the converter gives each request ("GET /chatroom/:id").

export interface OperationInfo {
  method: string;
  path: string;
  operation: Operation;
  /** The operationId, or "METHOD /path" for an operation without one. */
  opKey: string;
  /** Needs no bearer token (no security requirement, or an empty one among them). */
  isPublic: boolean;
}

export function operationIndex(spec: Spec): Map<string, OperationInfo> {
  const byRoute = new Map<string, OperationInfo>();
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'put', 'post', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
      const security = operation.security ?? spec.security ?? [];
      byRoute.set(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`, {
        method: method.toUpperCase(),
        path,
        operation,
        opKey: operation.operationId ?? `${method.toUpperCase()} ${path}`,
        isPublic: security.length === 0 || security.some((s) => Object.keys(s).length === 0),
      });
    }
  }
  return byRoute;
}

export const routeOf = (request: PmRequest) => `${request.method.toUpperCase()} /${(request.url.path ?? []).join('/')}`;
