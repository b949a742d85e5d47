/**
 * Where a V8 heap snapshot's bytes go: `pnpm exec tsx bench/heap-summary.ts <file>.heapsnapshot [top]`.
 *
 * Take the snapshot from a running process with `node --heapsnapshot-signal=SIGUSR2 …` and `kill -USR2 <pid>`
 * (the file lands in the process's working directory, or --diagnostic-dir). Printed:
 * - self size by node type and by constructor (DevTools' "Summary", shallow sizes: they add up to the heap);
 * - the code-like nodes (closures, function infos with their bytecode and scope info) and each script's source
 *   text, by the script they belong to, packages folded to their name: what each module costs by being loaded;
 * - retained sizes (dominator tree, weak edges ignored as DevTools does): by constructor, summed by the edge that
 *   holds each node (e.g. every route context's `<symbol response-schema>`), and the largest single ones.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-summary.ts <file>.heapsnapshot [top]');
const top = Number(topArg ?? 25);
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const { meta } = snap.snapshot;
const field = (fields: string[], name: string) => {
  const index = fields.indexOf(name);
  if (index < 0) throw new Error(`the snapshot has no ${name} field`);
  return index;
};
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const N_TYPE = field(meta.node_fields, 'type');
const N_NAME = field(meta.node_fields, 'name');
const N_SIZE = field(meta.node_fields, 'self_size');
const N_EDGES = field(meta.node_fields, 'edge_count');
const E_TYPE = field(meta.edge_fields, 'type');
const E_NAME = field(meta.edge_fields, 'name_or_index');
const E_TO = field(meta.edge_fields, 'to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const strings = snap.strings;
const count = snap.nodes.length / NF;

// Flat per-node and per-edge columns (node ids are indexes 0..count-1, not offsets into the nodes array).
const nodeType = new Uint8Array(count);
const nodeName = new Uint32Array(count);
const nodeSize = new Float64Array(count);
const firstEdge = new Uint32Array(count + 1);
const edgeCount = snap.edges.length / EF;
const edgeType = new Uint8Array(edgeCount);
const edgeName = new Uint32Array(edgeCount);
const edgeTo = new Uint32Array(edgeCount);
for (let i = 0, e = 0; i < count; i++) {
  nodeType[i] = snap.nodes[i * NF + N_TYPE]!;
  nodeName[i] = snap.nodes[i * NF + N_NAME]!;
  nodeSize[i] = snap.nodes[i * NF + N_SIZE]!;
  firstEdge[i] = e;
  e += snap.nodes[i * NF + N_EDGES]!;
}
firstEdge[count] = edgeCount;
for (let e = 0; e < edgeCount; e++) {
  edgeType[e] = snap.edges[e * EF + E_TYPE]!;
  edgeName[e] = snap.edges[e * EF + E_NAME]!;
  edgeTo[e] = snap.edges[e * EF + E_TO]! / NF;
}

const typeOf = (i: number) => nodeTypes[nodeType[i]!]!;
const nameOf = (i: number) => strings[nodeName[i]!]!;
const sizeOf = (i: number) => nodeSize[i]!;
const labelOf = (e: number) => {
  const type = edgeTypes[edgeType[e]!];
  return type === 'element' || type === 'hidden' ? `[${edgeName[e]}]` : strings[edgeName[e]!]!;
};
const childNamed = (i: number, name: string): number | undefined => {
  for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e++) if (labelOf(e) === name) return edgeTo[e]!;
  return undefined;
};
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(2).padStart(8);
const sum = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
function printTop(title: string, sums: Map<string, number>, n = top) {
  console.log(title);
  for (const [key, bytes] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${mb(bytes)} MB  ${key}`);
  console.log('');
}

let total = 0;
for (let i = 0; i < count; i++) total += sizeOf(i);
console.log(`${file}: ${count.toLocaleString()} nodes, ${mb(total).trim()} MB self size in all\n`);

// 1. Shallow sizes by type and by constructor.
const byType = new Map<string, number>();
const byConstructor = new Map<string, number>();
for (let i = 0; i < count; i++) {
  const type = typeOf(i);
  sum(byType, type, sizeOf(i));
  sum(byConstructor, type.endsWith('string') ? `(${type})` : `${type} ${nameOf(i).slice(0, 60)}`, sizeOf(i));
}
printTop('self size by node type', byType);
printTop('self size by type + constructor/name', byConstructor);

// 2. Code by script: a closure → its function info (edge "shared") → its script (edge "script_or_debug_info", a
// node named by the script's URL whose edge "source" is the module's text).
function moduleOf(url: string): string {
  const pnpm = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm) return pnpm[1]!;
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (plain) return plain[1]!;
  if (url.startsWith('node:')) return '(node core)';
  return url.replace(/^.*\/(packages\/[^/]+\/dist\/[^/]+)$/, '$1') || '(anonymous: eval / new Function)';
}
const byScript = new Map<string, number>();
const scripts = new Set<number>();
const counted = new Set<number>();
for (let i = 0; i < count; i++) {
  const type = typeOf(i);
  if (type === 'closure') {
    const info = childNamed(i, 'shared');
    const script = info === undefined ? undefined : childNamed(info, 'script_or_debug_info');
    sum(byScript, script === undefined ? '(no script)' : moduleOf(nameOf(script)), sizeOf(i));
  } else if (type === 'code') {
    const script = childNamed(i, 'script_or_debug_info');
    if (script === undefined) continue;
    // A function info: its own size plus its bytecode (or lazy-compile data) and scope info, each counted once
    // (nested functions share their outer scope's info).
    scripts.add(script);
    let bytes = sizeOf(i);
    for (const name of ['function_data', 'raw_outer_scope_info_or_feedback_metadata']) {
      const child = childNamed(i, name);
      if (child !== undefined && !counted.has(child)) {
        counted.add(child);
        bytes += sizeOf(child);
      }
    }
    sum(byScript, moduleOf(nameOf(script)), bytes);
  }
}
for (const script of scripts) {
  const source = childNamed(script, 'source');
  if (source !== undefined) sum(byScript, `${moduleOf(nameOf(script))} [source text]`, sizeOf(source));
}
printTop("closures + function infos + bytecode by script (packages folded), and scripts' source text", byScript, top * 2);

// 3. Dominator tree (Cooper–Harvey–Kennedy over a postorder from the root, node 0), weak edges ignored.
const WEAK = edgeTypes.indexOf('weak');
const SHORTCUT = edgeTypes.indexOf('shortcut');
const strong = (e: number) => edgeType[e] !== WEAK && edgeType[e] !== SHORTCUT;
const order = new Int32Array(count).fill(-1);
const post: number[] = [];
{
  const seen = new Uint8Array(count);
  const cursor = firstEdge.slice(0, count);
  const stack = [0];
  seen[0] = 1;
  while (stack.length > 0) {
    const n = stack[stack.length - 1]!;
    let pushed = false;
    while (cursor[n]! < firstEdge[n + 1]!) {
      const e = cursor[n]!++;
      const to = edgeTo[e]!;
      if (strong(e) && !seen[to]) {
        seen[to] = 1;
        stack.push(to);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      order[n] = post.length;
      post.push(n);
    }
  }
}
const preds: number[][] = Array.from({ length: count }, () => []);
for (const n of post) for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e++) if (strong(e)) preds[edgeTo[e]!]!.push(n);
const idom = new Int32Array(count).fill(-1);
idom[0] = 0;
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (order[a]! < order[b]!) a = idom[a]!;
    while (order[b]! < order[a]!) b = idom[b]!;
  }
  return a;
};
for (let changed = true; changed; ) {
  changed = false;
  for (let k = post.length - 2; k >= 0; k--) {
    const n = post[k]!;
    let dom = -1;
    for (const p of preds[n]!) if (idom[p]! >= 0) dom = dom < 0 ? p : intersect(p, dom);
    if (dom >= 0 && idom[n] !== dom) {
      idom[n] = dom;
      changed = true;
    }
  }
}
const retained = new Float64Array(count);
for (const n of post) retained[n]! += sizeOf(n);
for (const n of post) if (n !== 0) retained[idom[n]!]! += retained[n]!;
console.log(`reachable from the root (strong edges): ${mb(retained[0]!).trim()} MB\n`);

// Retained size by constructor, counting only the outermost node of each constructor (no double counting).
const keyOf = (n: number) => `${typeOf(n)} ${nameOf(n).slice(0, 60)}`;
const retainedByConstructor = new Map<string, number>();
for (const n of post) {
  if (typeOf(n) !== 'object' && typeOf(n) !== 'closure') continue;
  const key = keyOf(n);
  let nested = false;
  for (let d = idom[n]!; d !== 0; d = idom[d]!) {
    if (keyOf(d) === key) {
      nested = true;
      break;
    }
  }
  if (!nested) sum(retainedByConstructor, key, retained[n]!);
}
printTop('retained size by constructor (objects and closures; outermost of each constructor only)', retainedByConstructor);

// What holds each dominated node: its dominator's edge to it.
const holder = new Map<number, string>();
for (const n of post) {
  for (let e = firstEdge[n]!; e < firstEdge[n + 1]!; e++) {
    const to = edgeTo[e]!;
    if (to !== 0 && idom[to] === n && !holder.has(to)) holder.set(to, `${typeOf(n)} ${nameOf(n).slice(0, 40)} .${labelOf(e)}`);
  }
}
const byHolder = new Map<string, number>();
for (const [n, edge] of holder) if (typeOf(n) !== 'synthetic' && typeOf(idom[n]!) !== 'synthetic') sum(byHolder, edge, retained[n]!);
printTop('retained size summed by holding edge (holder type + name, edge)', byHolder, top * 2);

const largest = post.filter((n) => n !== 0 && typeOf(n) !== 'synthetic' && retained[n]! > 256 * 1024).sort((a, b) => retained[b]! - retained[a]!);
console.log('largest retained sizes (over 256 KB; nested ones included)');
for (const n of largest.slice(0, top)) console.log(`${mb(retained[n]!)} MB  ${keyOf(n).slice(0, 80)}  ← ${holder.get(n) ?? '(a root)'}`);
