// Bundles src/app.ts (and the SDK it imports) for the browser with esbuild:
//   pnpm exec tsx examples/web-chat/build.ts        → examples/web-chat/dist/app.js
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const DEFAULT_OUT_DIR = fileURLToPath(new URL('./dist/', import.meta.url));

/** Writes `app.js` (and its source map) into `outDir`. */
export async function buildWebChat(outDir: string = DEFAULT_OUT_DIR): Promise<void> {
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./src/app.ts', import.meta.url))],
    outfile: `${outDir.replace(/\/+$/, '')}/app.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    sourcemap: true,
    minify: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildWebChat();
  console.log(`built ${DEFAULT_OUT_DIR}app.js`);
}
