// Records every SQL statement sent to Postgres while capturing is on, with the repository function that issued it,
// and which repository functions were called at all. The store is wrapped (see query-plans.test.ts's vi.mock) so
// each repository call runs in an async context naming it; the pg client's query() reads that context.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

export interface CapturedStatement {
  sql: string;
  params: unknown[];
  /** 'messages.branch', or '(outside repositories)'. */
  origin: string;
}

const caller = new AsyncLocalStorage<string>();
const state = { capturing: false, statements: [] as CapturedStatement[], called: new Set<string>(), tsvReads: new Set<string>() };

export const captured = state;

type Fn = (...args: unknown[]) => unknown;
type RepoSet = Record<string, unknown>;

function wrapRepository(name: string, repo: Record<string, unknown>): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(repo)) {
    if (typeof value !== 'function') {
      wrapped[key] = value;
      continue;
    }
    const origin = `${name}.${key}`;
    // `this` is the wrapped repository, so a method calling another (this.pendingReplyIn) is recorded as that one.
    wrapped[key] = (...args: unknown[]) => {
      state.called.add(origin);
      return caller.run(origin, () => (value as Fn).apply(wrapped, args));
    };
  }
  return wrapped;
}

function wrapRepositories(set: RepoSet): RepoSet {
  const out: RepoSet = {};
  for (const [key, value] of Object.entries(set)) {
    out[key] = value && typeof value === 'object' ? wrapRepository(key, value as Record<string, unknown>) : value;
  }
  return out;
}

/** The store with every repository function recorded (inside transactions too). */
export function instrumentStore<S extends object>(store: S): S {
  const original = store as unknown as RepoSet & { transaction: (fn: (tx: RepoSet) => Promise<unknown>) => Promise<unknown> };
  const out = wrapRepositories(original);
  out.transaction = (fn: (tx: RepoSet) => Promise<unknown>) => original.transaction((tx) => fn(wrapRepositories(tx)));
  return out as S;
}

/** Runs the test's own queries (arranging, polling) outside the capture. */
export function untracked<T>(fn: () => Promise<T>): Promise<T> {
  return caller.run(TEST_ORIGIN, fn);
}
const TEST_ORIGIN = '(the test itself)';

/** Every repository function of a store, as 'repo.function'. */
export function repositoryFunctions(store: RepoSet): string[] {
  return Object.entries(store).flatMap(([name, repo]) =>
    repo && typeof repo === 'object' ? Object.entries(repo).filter(([, v]) => typeof v === 'function').map(([fn]) => `${name}.${fn}`) : [],
  );
}

// The pg driver the repositories use, resolved from the shared package (the same module instance).
const requireFromShared = createRequire(new URL('../../../packages/shared/package.json', import.meta.url));
const pg = requireFromShared('pg') as { Client: { prototype: { query: Fn } } };
const originalQuery = pg.Client.prototype.query;

export function installCapture(): void {
  pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
    const result = originalQuery.apply(this, args);
    if (!state.capturing || typeof args[0] !== 'string') return result;
    const origin = caller.getStore() ?? '(outside repositories)';
    if (origin === TEST_ORIGIN) return result;
    state.statements.push({ sql: args[0], params: Array.isArray(args[1]) ? [...(args[1] as unknown[])] : [], origin });
    // A read of the generated search columns: only search's WHERE clause may use them, never a result.
    if (result instanceof Promise) {
      void result.then(
        (res: { fields?: Array<{ name: string }> }) => {
          if (res?.fields?.some((f) => f.name === 'search_tsv')) state.tsvReads.add(origin);
        },
        () => {},
      );
    }
    return result;
  };
}

export function uninstallCapture(): void {
  pg.Client.prototype.query = originalQuery;
}
