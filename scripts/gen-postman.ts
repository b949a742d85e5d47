// `tsx scripts/gen-postman.ts [--check]`: turns the committed openapi.json into the Postman collection at
// postman/gemini-chat.postman_collection.json (plus postman/local.postman_environment.json).
//
// The maintained converter (openapi-to-postmanv2) builds the folders, URLs, parameters and descriptions from the
// spec; scripts/postman/ then makes the collection runnable top to bottom (newman, or Postman's runner):
// collection variables, collection-level bearer auth, a scripted sign-in flow, a test on every request, a fixed
// order (the destructive requests last), and deterministic output (ids derived from names, examples built from
// the schemas, no timestamps) so regenerating from the same spec gives the same bytes.
//
// Every operation in the spec ends up in the collection. Operations with a scenario (scripts/postman/scenarios.ts)
// get tailored requests and assertions; any other operation (a route added later) still gets a generic test: the
// status is one the spec documents and not a 5xx, and errors are problem+json. The script lists those so someone
// can add one.
//
// --check: write nothing; exit 1 when the committed files differ from what the spec produces.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCollection } from './postman/build-collection.js';
import type { Spec } from './postman/openapi.types.js';
import { json } from './postman/source-text.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SPEC_PATH = join(ROOT, 'openapi.json');
const COLLECTION_PATH = join(ROOT, 'postman', 'gemini-chat.postman_collection.json');
const ENVIRONMENT_PATH = join(ROOT, 'postman', 'local.postman_environment.json');

const spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
const { collection, environment, unscripted, missing } = await buildCollection(spec);
const files: Array<[string, string]> = [
  [COLLECTION_PATH, `${json(collection)}\n`],
  [ENVIRONMENT_PATH, `${json(environment)}\n`],
];
if (unscripted.length > 0) {
  console.warn(`gen-postman: ${unscripted.length} operation(s) without a scenario (generic status test only):`);
  for (const op of unscripted) console.warn(`  - ${op}`);
}
if (missing.length > 0) console.warn(`gen-postman: scenario(s) whose operation is not in openapi.json (skipped): ${missing.join(', ')}`);

if (process.argv.includes('--check')) {
  const stale = files.filter(([path, content]) => {
    try {
      return readFileSync(path, 'utf8') !== content;
    } catch {
      return true;
    }
  });
  for (const [path] of stale) console.error(`gen-postman: ${relative(ROOT, path)} is out of date: run tsx scripts/gen-postman.ts`);
  process.exit(stale.length > 0 ? 1 : 0);
}
mkdirSync(dirname(COLLECTION_PATH), { recursive: true });
for (const [path, content] of files) writeFileSync(path, content);
const requests = collection.item.reduce((n, folder) => n + (folder.item?.length ?? 0), 0);
console.log(`gen-postman: wrote ${relative(ROOT, COLLECTION_PATH)} (${requests} requests) and ${relative(ROOT, ENVIRONMENT_PATH)}`);
