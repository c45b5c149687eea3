import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { everyColumnRow, makeFlowRows } from '../../query/testing/flow-fixtures.ts';
import { emptyFlowRow, FLOW_COLUMNS, type FlowRow } from '../flow-row.ts';
import { openEmbeddedStore, type EmbeddedStore } from './embedded-store.ts';
import { stripPodSuffix, workloadOf } from './workload.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowvis-store-test-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function all(store: EmbeddedStore, where = 'true'): Promise<Record<string, unknown>[]> {
  const conn = await store.connect();
  try {
    const columns = FLOW_COLUMNS.map((c) => `"${c.name}"`).join(', ');
    return (await conn.runAndReadAll(`SELECT ${columns} FROM flows WHERE ${where} ORDER BY rowid`)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
  }
}

describe('embedded store', () => {
  test('stores every column exactly, with timeInserted from the clock', async () => {
    let now = 1_900_000_000_000;
    const store = await openEmbeddedStore({ path: '', clock: () => now, threads: 1 });
    try {
      const odd: FlowRow = {
        ...emptyFlowRow(),
        sourcePodName: 'nul\0inside-and-long-enough',
        destinationPodName: 'é',
        destinationNodeName: 'twelve-chars',
        sourceNodeName: 'thirteen-char',
        flowEndReason: 300,
        octetDeltaCount: -1n,
      };
      const rows = [everyColumnRow(1), everyColumnRow(2), odd];
      store.write(rows);
      await store.flush();
      now += 5000;
      store.write(makeFlowRows(5000));
      await store.flush();
      assert.deepEqual(store.stats(), { queued: 0, written: 5003, dropped: 0, failures: 0, lastError: undefined });
      const back = await all(store);
      assert.equal(back.length, 5003);
      rows.forEach((row, i) => {
        const got = back[i] as Record<string, unknown>;
        assert.equal(got.timeInserted, 1_900_000_000);
        for (const c of FLOW_COLUMNS) {
          if (c.name === 'timeInserted') continue;
          let want: unknown = row[c.name];
          if (row === odd && c.name === 'flowEndReason') want = 44;
          if (row === odd && c.name === 'octetDeltaCount') want = 0xffff_ffff_ffff_ffffn;
          assert.equal(got[c.name], want, `${c.name} of row ${i}`);
        }
      });
      assert.equal(back[4]?.timeInserted, 1_900_000_005);
    } finally {
      await store.close();
    }
  });

  test('keeps records and names in its file across restarts', async () => {
    const dir = tempDir();
    const rows = makeFlowRows(3000);
    let store = await openEmbeddedStore({ path: dir, threads: 1 });
    store.write(rows);
    await store.close();
    store = await openEmbeddedStore({ path: dir, threads: 1 });
    try {
      assert.equal(store.file, join(dir, 'flows.duckdb'));
      assert.equal((await all(store)).length, 3000);
      const endpoints = store.dictionary.endpointCount;
      assert.ok(endpoints > 10);
      store.write(rows.slice(0, 10));
      await store.flush();
      assert.equal(store.dictionary.endpointCount, endpoints, 'known names get their old ids');
      const pods = new Set([...store.dictionary.endpoints()].map((e) => e.podName));
      assert.ok(pods.has(rows[0]?.sourcePodName ?? ''));
    } finally {
      await store.close();
    }
  });

  test('retention deletes old records and the names only they used', async () => {
    let now = 2_000_000_000_000;
    const store = await openEmbeddedStore({ path: '', clock: () => now, retentionMs: 3600_000, threads: 1 });
    try {
      const old = { ...emptyFlowRow(), sourcePodName: 'old-pod', sourcePodNamespace: 'gone', destinationServicePortName: 'gone/svc:http' };
      store.write([old]);
      await store.flush();
      now += 1800_000;
      store.write([{ ...emptyFlowRow(), sourcePodName: 'new-pod', sourcePodNamespace: 'kept' }]);
      await store.flush();
      assert.equal(await store.applyRetention(), 0);
      now += 2400_000; // the first record is now 70 min old, the second 40 min
      assert.equal(await store.applyRetention(), 1);
      assert.deepEqual((await all(store)).map((r) => r.sourcePodName), ['new-pod']);
      const names = [...store.dictionary.endpoints()].map((e) => e.podName);
      assert.ok(!names.includes('old-pod') && names.includes('new-pod'));
      assert.ok(![...store.dictionary.services()].some((s) => s.name === 'gone/svc:http'));
      const conn = await store.connect();
      const left = (await conn.runAndReadAll("SELECT count(*) FROM flow_endpoints WHERE podName = 'old-pod'")).getRows();
      conn.closeSync();
      assert.equal(left[0]?.[0], 0n);
    } finally {
      await store.close();
    }
  });

  test('a full queue drops the oldest records, counted; writes after close are counted too', async () => {
    const store = await openEmbeddedStore({ path: '', maxQueueSize: 4, flushIntervalMs: 60_000, threads: 1 });
    const rows = Array.from({ length: 10 }, (_, i) => ({ ...emptyFlowRow(), sourceTransportPort: i }));
    store.write(rows);
    assert.equal(store.stats().dropped, 6);
    await store.flush();
    assert.deepEqual((await all(store)).map((r) => r.sourceTransportPort), [6, 7, 8, 9]);
    await store.close();
    store.write(rows.slice(0, 3));
    assert.equal(store.stats().dropped, 9);
  });

  test('batches bigger than one slice are stored in order', async () => {
    const store = await openEmbeddedStore({ path: '', threads: 1, batchRows: 50_000 });
    try {
      const rows = makeFlowRows(20_000);
      store.write(rows);
      await store.flush();
      const back = await all(store);
      assert.equal(back.length, 20_000);
      assert.deepEqual(
        back.slice(16_380, 16_390).map((r) => r.sourceTransportPort),
        rows.slice(16_380, 16_390).map((r) => r.sourceTransportPort),
      );
    } finally {
      await store.close();
    }
  });
});

describe('workload names', () => {
  test('strip controller suffixes, prefer labels', () => {
    assert.equal(stripPodSuffix('web-7d9f8b6c5d-x7k2p'), 'web');
    assert.equal(stripPodSuffix('my-app-7d9f8b6c5d-x7k2p'), 'my-app');
    assert.equal(stripPodSuffix('fluentd-x7k2p'), 'fluentd');
    assert.equal(stripPodSuffix('db-0'), 'db');
    assert.equal(stripPodSuffix('plain'), 'plain');
    assert.equal(stripPodSuffix('web-aeiou'), 'web-aeiou', 'vowels are never in generated suffixes');
    assert.equal(workloadOf('web-7d9f8b6c5d-x7k2p', '{"app":"frontend"}'), 'frontend');
    assert.equal(workloadOf('x-0', '{"app.kubernetes.io/name":"api","app":"other"}'), 'api');
    assert.equal(workloadOf('dns-x7k2p', '{"k8s-app":"kube-dns"}'), 'kube-dns');
    assert.equal(workloadOf('db-0', 'not json'), 'db');
    assert.equal(workloadOf('', '{"app":"x"}'), '');
  });
});
