/**
 * Runs every benchmark (or those named on the command line) in its own Node process and passes
 * their JSON lines through: `npm run bench [-- codec collector ...]`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const helpers = new Set(['run.ts', 'report.ts', 'children.ts']);
const all = readdirSync(here).filter((f) => f.endsWith('.ts') && !helpers.has(f)).map((f) => f.slice(0, -3)).sort();
const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? wanted : all;
let failed = 0;
for (const name of selected) {
  if (!all.includes(name)) {
    process.stderr.write(`unknown benchmark "${name}"; available: ${all.join(', ')}\n`);
    process.exit(2);
  }
  process.stderr.write(`# bench/${name}.ts\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=128', '--import', 'tsx', join(here, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`# bench/${name}.ts exited with ${r.status ?? r.signal}\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
