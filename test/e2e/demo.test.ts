/**
 * `flowvis demo` (the README's main job) end to end: it builds its lab, starts the aggregator and
 * both agents, makes traffic, prints what the aggregator sees, and removes everything.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/netlab/exec.ts';
import { listNamespaces } from '../../src/netlab/names.ts';

test('flowvis demo runs the whole pipeline on real kernel flows and cleans up', { timeout: 150_000 }, async () => {
  const before = new Set(await listNamespaces());
  const child = spawn(join(REPO_ROOT, 'bin', 'flowvis'), ['demo', '--duration', '30', '--report-every', '25'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `demo failed:\n${out}\n${err}`);
  assert.match(out, /Agent on node1 started/);
  assert.match(out, /Agent on node2 started/);
  // The summary shows each kind of conversation the scenario makes.
  assert.match(out, /clients\/shopper-\S+\s+service shop\/web:http → web-\S+\s+intra-node/);
  assert.match(out, /shop\/web-\S+\s+shop\/api-\S+\s+inter-node\s.*allowed by ingress shop\/api-from-web/);
  assert.match(out, /shop\/api-\S+\s+data\/db-0\s+intra-node/);
  assert.match(out, /shop\/api-\S+\s+10\.0\.0\.254:8000\s+to-external/);
  assert.match(out, /clients\/shopper-\S+\s+data\/db-0\s+inter-node\s.*DROPPED by ingress data\/db-from-shop-only/);
  // Both agents are connected.
  assert.match(out, /RECORDS-EXPORTED[^\n]*\n\d+\s+\d+\s+\d+\s+\d+\s+2\s/);
  assert.match(out, /Stopping and removing the lab/);
  const leftover = (await listNamespaces()).filter((n) => !before.has(n));
  assert.deepEqual(leftover, []);
});
