// Regenerates the configuration table in README.md from the config schema, so the docs cannot drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { describeEnv } from '../packages/shared/src/index.js';

const START = '<!-- env:start -->';
const END = '<!-- env:end -->';
const readme = new URL('../README.md', import.meta.url);
const text = readFileSync(readme, 'utf8');
const from = text.indexOf(START);
const to = text.indexOf(END);
if (from < 0 || to < from) throw new Error('README.md lacks the env:start / env:end markers');

const escape = (s: string) => s.replace(/\|/g, '\\|');
const rows = describeEnv().map((e) => `| \`${e.key}\` | ${e.default ? `\`${escape(e.default)}\`` : ''} | ${escape(e.description)} |`);
const table = ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
writeFileSync(readme, `${text.slice(0, from + START.length)}\n${table}\n${text.slice(to)}`);
console.log(`README.md: ${rows.length} configuration keys`);
