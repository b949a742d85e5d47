import { execFileSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import type { BenchOptions } from './options.js';
import type { ScenarioRow } from '../scenarios/types.js';

export interface TargetCheck {
  target: string;
  actual: string;
  status: 'pass' | 'miss' | 'n/a';
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; kernel: string; commit: string };
  options: BenchOptions;
  rows: ScenarioRow[];
  targets: TargetCheck[];
}

export function machineInfo(): BenchReport['machine'] {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // not a git checkout
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    commit,
  };
}

const num = (n: number | null, digits = 0) => (n === null || !Number.isFinite(n) ? '–' : n.toFixed(digits));
const ms = (n: number | null) => (n === null || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const pct = (n: number | null) => (n === null || !Number.isFinite(n) ? '–' : `${Math.round(n * 100)} %`);

const HEADER = ['#', 'scenario', 'req/s', '× ceiling', 'p50 ms', 'p99 ms', 'errors', 'PG xact/req', 'API RSS peak MB', 'API CPU %', 'load CPU %', 'PG+Redis CPU %', 'other CPU %'];

function cells(r: ScenarioRow, i: number): string[] {
  return [
    String(i + 1),
    r.title,
    num(r.rps),
    pct(r.ratio),
    ms(r.p50Ms),
    ms(r.p99Ms),
    num(r.errors),
    num(r.pgPerRequest, 1),
    num(r.rssMb),
    num(r.cpuPercent),
    num(r.loadCpuPercent),
    r.machine ? num(r.machine.postgresPercent + r.machine.redisPercent) : '–',
    r.machine ? num(r.machine.otherPercent) : '–',
  ];
}

export function consoleTable(report: BenchReport): string {
  const rows = [HEADER, ...report.rows.map(cells)];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line), ''];
  for (const [i, r] of report.rows.entries()) {
    out.push(`${i + 1}. ${r.title} — ${r.measures}`);
    for (const note of r.notes) out.push(`     ${note}`);
  }
  out.push('', 'Targets:');
  for (const t of report.targets) out.push(`  [${t.status.toUpperCase().padEnd(4)}] ${t.target}: ${t.actual}`);
  return out.join('\n');
}

export function markdown(report: BenchReport): string {
  const m = report.machine;
  const o = report.options;
  const out = [
    `# Benchmark results`,
    '',
    `${report.startedAt} · ${m.cpus} × ${m.cpuModel} · ${m.memoryGb} GB · Node ${m.node} · Linux ${m.kernel} · commit ${m.commit}`,
    '',
    `Settings: ${o.durationSeconds} s per scenario after ${o.warmupSeconds} s warm-up; ${o.connections} connections (GET scenarios, ceiling); ` +
      `${o.sendConnections} chatrooms (POST → completed); ${o.ttftConcurrency} loop(s) (first delta); ${o.streams} streams ("${o.streamMarkers}"); ` +
      `worker concurrency ${o.workerConcurrency}; fake model first chunk ${o.fakeFirstChunkDelayMs} ms, chunk delay ${o.fakeChunkDelayMs} ms; ` +
      `node flags: API ${o.nodeFlags.join(' ') || "(Node's defaults)"}, worker ${o.workerNodeFlags.join(' ') || "(Node's defaults)"}.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map((_, i) => (i === 1 ? '---' : '---:')).join(' | ')} |`,
    ...report.rows.map((r, i) => `| ${cells(r, i).join(' | ')} |`),
    '',
    '## Targets',
    '',
    '| target | result | |',
    '| --- | --- | --- |',
    ...report.targets.map((t) => `| ${t.target} | ${t.actual} | **${t.status}** |`),
    '',
    '## Notes per scenario',
    '',
  ];
  for (const [i, r] of report.rows.entries()) {
    out.push(`${i + 1}. **${r.title}** — ${r.measures}`);
    for (const note of r.notes) out.push(`   - ${note}`);
  }
  out.push('');
  return out.join('\n');
}
