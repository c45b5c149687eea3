import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { FlowLoggerConfig } from '../../../config/aggregator-types.ts';
import { ManualTimers } from '../../../transport/index.ts';
import { sampleFlow } from '../testing/aggregated-flows.ts';
import { toFlowRow } from '../to-flow-row.ts';
import { flowLogLine } from './flow-log-line.ts';
import { flowLogSinkFromConfig, FlowLogSink } from './flowlog-sink.ts';
import { backupTimestamp, RotatingFile } from './rotating-file.ts';

const T0 = Date.UTC(2024, 4, 1, 10, 0, 0, 0);
const line = (i: number): string => `line-${String(i).padStart(4, '0')}\n`; // 10 octets
const BACKUP = /^flows-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.log(\.gz)?$/;

let root: string;
let n = 0;
before(async () => { root = await mkdtemp(join(tmpdir(), 'flowvis-flowlog-')); });
after(async () => { await rm(root, { recursive: true, force: true }); });
const freshDir = (): string => join(root, `case-${n++}`, 'sub');

async function contents(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) {
    const data = await readFile(join(dir, name));
    out.set(name, name.endsWith('.gz') ? gunzipSync(data).toString('utf8') : data.toString('utf8'));
  }
  return out;
}

describe('RotatingFile', () => {
  it('creates the directory and file (0600), and rotates before a line that would pass maxSize', async () => {
    const dir = freshDir();
    const timers = new ManualTimers(T0);
    const file = new RotatingFile({ path: join(dir, 'flows.log'), maxSizeBytes: 35, maxBackups: 0, maxAgeDays: 0, compress: false, now: () => timers.now() });
    for (let b = 0; b < 4; b++) {
      await file.writeLines([line(b * 2), line(b * 2 + 1)]);
      timers.advance(1000);
    }
    await file.close();
    const files = await contents(dir);
    assert.deepEqual([...files.keys()], [
      `flows-${backupTimestamp(T0 + 1000)}.log`, `flows-${backupTimestamp(T0 + 3000)}.log`, 'flows.log',
    ]);
    assert.equal(backupTimestamp(T0 + 1000), '2024-05-01T10-00-01.000');
    assert.deepEqual([...files.values()], [
      line(0) + line(1) + line(2), line(3) + line(4) + line(5), line(6) + line(7),
    ]);
    assert.equal((await stat(join(dir, 'flows.log'))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).isDirectory(), true);
    assert.equal(file.rotations, 2);
  });

  it('appends to an existing file that has room, and rotates one that has not when opened', async () => {
    const dir = freshDir();
    const path = join(dir, 'flows.log');
    const timers = new ManualTimers(T0);
    const opts = { path, maxSizeBytes: 30, maxBackups: 0, maxAgeDays: 0, compress: false, now: () => timers.now() };
    let file = new RotatingFile(opts);
    await file.writeLines([line(0)]);
    await file.close();
    file = new RotatingFile(opts);
    await file.writeLines([line(1)]);
    await file.close();
    assert.equal(await readFile(path, 'utf8'), line(0) + line(1), 'appended');
    file = new RotatingFile({ ...opts, maxSizeBytes: 25 });
    await file.writeLines([line(2)]);
    await file.close();
    const files = await contents(dir);
    assert.deepEqual([...files.values()], [line(0) + line(1), line(2)]);
  });

  it('keeps maxBackups backups, the newest', async () => {
    const dir = freshDir();
    const timers = new ManualTimers(T0);
    const file = new RotatingFile({ path: join(dir, 'flows.log'), maxSizeBytes: 10, maxBackups: 2, maxAgeDays: 0, compress: false, now: () => timers.now() });
    for (let i = 0; i < 6; i++) {
      await file.writeLines([line(i)]);
      timers.advance(1000);
    }
    await file.close();
    const files = await contents(dir);
    assert.equal(files.size, 3);
    assert.deepEqual([...files.values()], [line(3), line(4), line(5)]);
    assert.ok([...files.keys()].slice(0, 2).every((f) => BACKUP.test(f)));
  });

  it('gzips rotated files and removes the originals', async () => {
    const dir = freshDir();
    const timers = new ManualTimers(T0);
    const file = new RotatingFile({ path: join(dir, 'flows.log'), maxSizeBytes: 20, maxBackups: 3, maxAgeDays: 0, compress: true, now: () => timers.now() });
    for (let i = 0; i < 8; i++) {
      await file.writeLines([line(i)]);
      timers.advance(1000);
    }
    await file.close();
    const names = await readdir(dir);
    assert.deepEqual(names.filter((f) => f.endsWith('.log') && f !== 'flows.log'), [], 'no uncompressed backup left');
    const files = await contents(dir);
    assert.equal(files.size, 4, 'three compressed backups and the current file');
    assert.deepEqual([...files.values()], [line(0) + line(1), line(2) + line(3), line(4) + line(5), line(6) + line(7)]);
    for (const name of names) if (name !== 'flows.log') assert.match(name, /\.log\.gz$/);
  });

  it('removes backups older than maxAge days', async () => {
    const dir = freshDir();
    const timers = new ManualTimers(T0);
    const file = new RotatingFile({ path: join(dir, 'flows.log'), maxSizeBytes: 10, maxBackups: 0, maxAgeDays: 1, compress: false, now: () => timers.now() });
    await file.writeLines([line(0)]);
    await file.idle();
    const old = `flows-${backupTimestamp(T0 - 2 * 86_400_000)}.log`;
    const recent = `flows-${backupTimestamp(T0 - 3_600_000)}.log`;
    await writeFile(join(dir, old), 'old\n');
    await writeFile(join(dir, recent), 'recent\n');
    await writeFile(join(dir, 'unrelated.txt'), 'keep\n');
    await file.writeLines([line(1)]);
    await file.close();
    const names = await readdir(dir);
    assert.ok(!names.includes(old), 'the two-day-old backup is gone');
    assert.ok(names.includes(recent) && names.includes('unrelated.txt'));
  });

  it('writes a line longer than maxSize alone into its own file', async () => {
    const dir = freshDir();
    const file = new RotatingFile({ path: join(dir, 'flows.log'), maxSizeBytes: 15, maxBackups: 0, maxAgeDays: 0, compress: false, now: () => T0 });
    await file.writeLines([line(0), 'x'.repeat(40) + '\n', line(1)]);
    await file.close();
    assert.deepEqual([...(await contents(dir)).values()].sort(), [line(0), line(1), 'x'.repeat(40) + '\n'].sort());
  });
});

describe('FlowLogSink', () => {
  it('logs the flows that pass the filters, as CSV lines, one append per batch', async () => {
    const dir = freshDir();
    const config: FlowLoggerConfig = {
      enable: true, path: join(dir, 'antrea-flows.log'), maxSize: 100, maxBackups: 3, maxAge: 0, compress: true,
      recordFormat: 'CSV', prettyPrint: true,
      filters: [{ ingressNetworkPolicyRuleActions: ['Drop', 'Reject'], egressNetworkPolicyRuleActions: [] }],
    };
    const sink = flowLogSinkFromConfig(config);
    const flows = [
      sampleFlow(4, 0, { ingressNetworkPolicyRuleAction: 2 }),
      sampleFlow(4, 1, { ingressNetworkPolicyRuleAction: 1 }),
      sampleFlow(6, 2, { ingressNetworkPolicyRuleAction: 3 }),
    ];
    for (const f of flows) sink.offer(f);
    await sink.flush();
    const text = await readFile(config.path, 'utf8');
    assert.equal(text, flowLogLine(toFlowRow(flows[0], ''), true) + flowLogLine(toFlowRow(flows[2], ''), true));
    assert.deepEqual(sink.stats(), { queued: 0, sent: 2, dropped: 0, failures: 0 });
    assert.equal(sink.filtered, 1);
    await sink.close();
  });

  it('rotates by size with backups and gzip through the sink', async () => {
    const dir = freshDir();
    const timers = new ManualTimers(T0);
    const lineLength = Buffer.byteLength(flowLogLine(toFlowRow(sampleFlow(4, 0), ''), false));
    const sink = new FlowLogSink({
      path: join(dir, 'flows.log'), maxSizeBytes: lineLength * 5 + 10, maxBackups: 2, compress: true, prettyPrint: false, timers,
    });
    for (let batch = 0; batch < 5; batch++) {
      for (let i = 0; i < 4; i++) sink.offer(sampleFlow(4, batch * 4 + i));
      await sink.flush();
      timers.advance(1000);
    }
    await sink.close();
    const files = await contents(dir);
    const backups = [...files.keys()].filter((f) => f !== 'flows.log');
    assert.equal(backups.length, 2);
    assert.ok(backups.every((f) => /^flows-.*\.log\.gz$/.test(f)));
    const all = [...files.values()].join('').split('\n').filter(Boolean);
    const ports = all.map((l) => Number(l.split(',')[4]));
    assert.deepEqual(ports, Array.from({ length: ports.length }, (_, k) => 40_000 + 20 - ports.length + k), 'the newest lines, in order');
    assert.ok(ports.length >= 10);
    assert.equal(sink.stats().sent, 20);
  });

  it('counts a write that fails (unwritable path) and carries on', async () => {
    await writeFile(join(root, 'blocker'), 'a file where a directory should be');
    const sink = new FlowLogSink({ path: join(root, 'blocker', 'flows.log') });
    sink.offer(sampleFlow(4, 0));
    await sink.flush();
    const st = sink.stats();
    assert.equal(st.failures, 1);
    assert.equal(st.dropped, 1);
    assert.match(st.lastError ?? '', /ENOTDIR|EEXIST/);
    await sink.close();
  });
});
