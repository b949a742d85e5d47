import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, REPLY_FAILURE_CODES, loadConfig, type ErrorCode } from '@gemini-chat/shared';
import { buildApp } from '../../src/app.js';

// The types already refuse an uncatalogued code; this reads the source as text, so a cast, a code built from a
// string or a tuple table that slipped past the types is caught too, and so is a status the catalog disagrees with.

const ROOT = join(import.meta.dirname, '../../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

interface Use {
  where: string;
  code: string;
  status?: number;
}

/** Every code literal handed to AppError, its helpers, sendProblem, or a [status, code] / [code, message] table. */
function problemCodeUses(): Use[] {
  const patterns: [RegExp, (m: RegExpExecArray) => Omit<Use, 'where'>][] = [
    [/new AppError\(\s*(\d{3}),\s*'([A-Z0-9_]+)'/g, (m) => ({ status: Number(m[1]), code: m[2]! })],
    [/\bconflict\(\s*'([A-Z0-9_]+)'/g, (m) => ({ status: 409, code: m[1]! })],
    [/\bbadRequest\(\s*'([A-Z0-9_]+)'/g, (m) => ({ status: 400, code: m[1]! })],
    [/\btooManyRequests\(\s*'([A-Z0-9_]+)'/g, (m) => ({ status: 429, code: m[1]! })],
    [/\bunauthorized\([^()]*?,\s*'([A-Z0-9_]+)'\)/g, (m) => ({ status: 401, code: m[1]! })],
    [/\bsendProblem\([^,]+,[^,]+,\s*(\d{3}),\s*'([A-Z0-9_]+)'/g, (m) => ({ status: Number(m[1]), code: m[2]! })],
    [/\[\s*(\d{3}),\s*'([A-Z0-9_]+)',/g, (m) => ({ status: Number(m[1]), code: m[2]! })],
    // JWT_ERRORS: [code, message], the message a sentence.
    [/\[\s*'([A-Z][A-Z0-9_]+)',\s*'[A-Z][a-z]/g, (m) => ({ code: m[1]! })],
    [/\bqueryProblem\(\s*'([A-Z0-9_]+)'/g, (m) => ({ status: 400, code: m[1]! })],
    // FASTIFY_CODES: a Fastify error code to ours.
    [/\bFST_[A-Z_]+:\s*'([A-Z0-9_]+)'/g, (m) => ({ code: m[1]! })],
  ];
  const uses: Use[] = [];
  for (const file of [...sourceFiles('packages/api/src'), ...sourceFiles('packages/shared/src')]) {
    if (file.endsWith('error-codes.ts')) continue;
    const text = readFileSync(file, 'utf8');
    for (const [pattern, read] of patterns) {
      for (const m of text.matchAll(pattern)) {
        const line = text.slice(0, m.index).split('\n').length;
        uses.push({ where: `${relative(ROOT, file)}:${line}`, ...read(m as RegExpExecArray) });
      }
    }
  }
  return uses;
}

describe('error code catalog', () => {
  it('holds every problem code the API source answers with, at the status it is answered with', () => {
    const uses = problemCodeUses();
    // The scan must see the known shapes, or it proves nothing.
    expect(uses.length).toBeGreaterThan(80);
    for (const code of ['CHATROOM_BUSY', 'RATE_LIMITED', 'TOKEN_EXPIRED', 'HEADERS_TOO_LARGE', 'INVALID_JSON', 'SEARCH_QUERY_EMPTY']) {
      expect(uses.map((u) => u.code), code).toContain(code);
    }
    const wrong = uses
      .filter((u) => !(u.code in ERROR_CODES) || (u.status !== undefined && ERROR_CODES[u.code as keyof typeof ERROR_CODES].status !== u.status))
      .map((u) => `${u.where}: ${u.code}${u.status ? ` (${u.status})` : ''}`);
    expect(wrong, 'codes not in packages/shared/src/error-codes.ts, or at another status').toEqual([]);
  });

  it('holds every failure code the worker writes on a failed reply', () => {
    const uses = sourceFiles('packages/worker/src').flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bcode: '([A-Z0-9_]+)'/g)].map((m) => ({ where: relative(ROOT, file), code: m[1]! })),
    );
    expect(uses.length).toBeGreaterThan(10);
    expect(uses.filter((u) => !(u.code in REPLY_FAILURE_CODES)).map((u) => `${u.where}: ${u.code}`)).toEqual([]);
  });

  it('gives every code a status, a meaning and an example detail', () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.meaning.length, code).toBeGreaterThan(10);
      expect(entry.example.length, code).toBeGreaterThan(5);
    }
  });
});

describe('an uncatalogued code at run time', () => {
  it('is a 500 under test, so whatever sent it fails', async () => {
    const app = await buildApp({ config: loadConfig({ NODE_ENV: 'test' }), logger: false, specOnly: true });
    app.get('/uncatalogued', { schema: { hide: true } }, async () => {
      throw new AppError(409, 'NOT_IN_THE_CATALOG' as ErrorCode, 'A code no client knows.');
    });
    await app.ready();
    try {
      const res = await app.inject({ url: '/uncatalogued' });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ code: 'INTERNAL_ERROR', detail: 'The code NOT_IN_THE_CATALOG is not in the error catalog.' });
    } finally {
      await app.close();
    }
  });
});
