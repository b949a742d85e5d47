// Summarises a V8 sampling heap profile (`pnpm bench --heap-prof`: garbage included): bytes allocated by package,
// by function (self), and by the nearest frame of the project's own code (`packages/`) above each allocation, which
// says which of our call sites makes a library allocate.   pnpm exec tsx bench/analyze-heap-profile.ts <file.heapprofile> [top=25]
import { readFileSync } from 'node:fs';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/analyze-heap-profile.ts <file.heapprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };

const packageOf = (url: string) =>
  /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
  (url.includes('/packages/') ? url.replace(/.*\/packages\//, 'packages/') : url.startsWith('node:') ? 'node (core)' : url || '(native)');
const frameName = (node: HeapNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url.replace(/.*\/(node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?|packages\/)/, '') || '(native)'}:${lineNumber + 1}`;
};

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
const byOwnCaller = new Map<string, number>();
let total = 0;
const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);

// Iterative walk: stacks of async code run deep.
const stack: { node: HeapNode; ownCaller: string }[] = [{ node: head, ownCaller: '(none)' }];
while (stack.length > 0) {
  const { node, ownCaller: above } = stack.pop()!;
  const ownCaller = node.callFrame.url.includes('/packages/') ? frameName(node) : above;
  if (node.selfSize > 0) {
    total += node.selfSize;
    add(byPackage, packageOf(node.callFrame.url), node.selfSize);
    add(byFunction, frameName(node), node.selfSize);
    add(byOwnCaller, ownCaller, node.selfSize);
  }
  for (const child of node.children) stack.push({ node: child, ownCaller });
}

const mb = (bytes: number) => (bytes / 1048576).toFixed(1).padStart(8);
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [key, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${mb(bytes)} MB ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${key}`);
};
console.log(`sampled allocations: ${mb(total).trim()} MB`);
print('by package', byPackage);
print('by function (self)', byFunction);
print('by the nearest frame of packages/ above the allocation', byOwnCaller);
