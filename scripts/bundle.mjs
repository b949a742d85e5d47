// Production build of a process (API, worker): one ESM file with our workspace packages bundled in and every
// npm dependency left as an import, so `node dist/<entry>.js` runs with the installed node_modules.
import { build } from 'esbuild';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: node scripts/bundle.mjs <entry.ts> <out.js>');
  process.exit(2);
}

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20.19',
  format: 'esm',
  sourcemap: true,
  logLevel: 'info',
  plugins: [
    {
      name: 'external-npm-packages',
      setup(b) {
        // Bare imports are npm packages (external) unless they are ours.
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@gemini-chat/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
