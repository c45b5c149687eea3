/**
 * `flowvis get` end to end against a running API server (real HTTPS on loopback, a real
 * AggregationProcess): table, JSON and YAML output, filters, errors with hints, and one run as a
 * separate process for stdout and the exit status.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseJson } from '../aggregator/api/index.ts';
import { generatePki } from '../aggregator/certs/index.ts';
import { BIG_OCTETS, startApiFixture, type ApiFixture } from '../aggregator/api/testing/api-fixture.ts';
import { formatTable, registerGetCommand } from './get.ts';

const GET_CLI = fileURLToPath(new URL('./get.ts', import.meta.url));

interface Run {
  out: string;
  err: string;
  code: number;
}

async function flowvis(args: string[]): Promise<Run> {
  const run: Run = { out: '', err: '', code: 0 };
  const program = new Command('flowvis').exitOverride().configureOutput({ writeErr: (t) => (run.err += t), writeOut: (t) => (run.out += t) });
  registerGetCommand(program, { out: (t) => (run.out += t), err: (t) => (run.err += t), setExitCode: (c) => (run.code = c) });
  await program.parseAsync(['get', ...args], { from: 'user' });
  return run;
}

describe('flowvis get against a running aggregator API', () => {
  let f: ApiFixture;
  let conn: string[];
  before(async () => {
    f = await startApiFixture({ bulk: 3 });
    conn = ['--server', f.server.url, '--token-file', f.tokenFile, '--ca-file', f.caFile];
  });
  after(async () => {
    await f.close();
  });

  test('flowrecords as a table: antctl columns, one row per flow, <NONE> for empty cells', async () => {
    const r = await flowvis(['flowrecords', ...conn, '--srcip', '10.0.1.2']);
    assert.deepEqual([r.code, r.err], [0, '']);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0], /^SRC_IP\s+DST_IP\s+SPORT\s+DPORT\s+PROTO\s+SRC_POD\s+DST_POD\s+SRC_NS\s+DST_NS\s+SERVICE$/);
    const rows = lines.slice(1).map((l) => l.split(/\s+/)).sort((a, b) => a[2].localeCompare(b[2]));
    assert.deepEqual(rows, [
      ['10.0.1.2', '10.0.2.9', '45000', '443', '6', 'client', '<NONE>', 'ns-a', '<NONE>', '<NONE>'],
      ['10.0.1.2', '10.0.1.3', '50000', '8080', '6', 'client', 'server', 'ns-a', 'ns-b', 'ns-b/server:http'],
    ]);
    assert.equal(lines[1].indexOf('10.0.', 1), lines[0].indexOf('DST_IP'), 'columns aligned');
  });

  test('flowrecords -o json with the full 5-tuple: exactly that record, 64-bit counters exact', async () => {
    const r = await flowvis(['flowrecords', ...conn, '-o', 'json', '--srcip', '10.0.1.2', '--dstip', '10.0.1.3', '--proto', 'tcp', '--srcport', '50000', '--dstport', '8080']);
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.includes(`"octetTotalCount": ${BIG_OCTETS}`));
    const list = parseJson(r.out) as Record<string, unknown>[];
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].sourcePodName, list[0].destinationPodName, list[0].octetTotalCount], ['client', 'server', BIG_OCTETS]);
  });

  test('flowrecords -o yaml: a list of IE maps, IPv6 included', async () => {
    const r = await flowvis(['flowrecords', ...conn, '-o', 'yaml', '--proto', 'udp', '--dstport', '53']);
    assert.equal(r.code, 0, r.err);
    const list = parseYaml(r.out, { intAsBigInt: true }) as Record<string, unknown>[];
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].sourceIPv6Address, list[0].destinationPodName, list[0].protocolIdentifier], ['fd00:10:244:1::5', 'coredns', 17n]);
    const table = await flowvis(['flowrecords', ...conn, '--proto', 'udp', '--dstport', '53']);
    assert.deepEqual(table.out.split('\n')[1].split(/\s+/), ['fd00:10:244:1::5', 'fd00:10:244:1::7', '5353', '53', '17', 'dns-client', 'coredns', 'ns-c', 'kube-system', '<NONE>']);
  });

  test('flowrecords --limit: a warning on stderr when more records exist', async () => {
    const r = await flowvis(['flowrecords', ...conn, '-o', 'json', '--limit', '2']);
    assert.equal((parseJson(r.out) as unknown[]).length, 2);
    assert.match(r.err, /^warning: only the first 2 flow records are shown/);
    assert.equal(r.code, 0);
  });

  test('recordmetrics as a table, JSON and YAML', async () => {
    const t = await flowvis(['recordmetrics', ...conn]);
    assert.equal(t.out,
      'RECORDS-EXPORTED RECORDS-RECEIVED     RECORDS-DROPPED FLOWS EXPORTERS-CONNECTED CLICKHOUSE-EXPORTER S3-EXPORTER LOG-EXPORTER IPFIX-EXPORTER\n'
      + '12               18446744073709551615 1               6     2                   true                false       false        true\n');
    const j = await flowvis(['recordmetrics', ...conn, '-o', 'json']);
    assert.deepEqual(parseJson(j.out), { ...f.metrics });
    const y = await flowvis(['recordmetrics', ...conn, '-o', 'yaml']);
    assert.equal(parseYaml(y.out, { intAsBigInt: true }).numRecordsReceived, 2n ** 64n - 1n);
  });

  test('errors: bad token, untrusted certificate, refused connection, invalid options', async () => {
    const badToken = await flowvis(['recordmetrics', ...conn.slice(0, 2), '--token-file', f.caFile, '--ca-file', f.caFile]);
    assert.equal(badToken.code, 1);
    assert.match(badToken.err, /token file .* must hold one token/);
    const missing = await flowvis(['recordmetrics', '--server', f.server.url, '--token-file', `${f.dir}/none`, '--ca-file', f.caFile]);
    assert.match(missing.err, /does not exist or is empty\nhint: pass --token-file/);

    const wrongTokenFile = join(f.dir, 'wrong-token');
    await writeFile(wrongTokenFile, 'x'.repeat(40));
    const unauthorized = await flowvis(['recordmetrics', '--server', f.server.url, '--token-file', wrongTokenFile, '--ca-file', f.caFile]);
    assert.match(unauthorized.err, /HTTP 401: invalid bearer token\nhint: the token in .*wrong-token was refused/);

    const otherCa = join(f.dir, 'other-ca.crt');
    await writeFile(otherCa, generatePki().ca.cert);
    const untrusted = await flowvis(['recordmetrics', '--server', f.server.url.replace('127.0.0.1', 'localhost'), '--token-file', f.tokenFile, '--ca-file', otherCa]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.err, /^error: the certificate of https:\/\/localhost:\d+ was not accepted: .*\nhint: pass --ca-file/);
    const noCaFile = await flowvis(['recordmetrics', '--server', f.server.url, '--token-file', f.tokenFile, '--ca-file', join(f.dir, 'none.crt')]);
    assert.match(noCaFile.err, /^error: --ca-file .*none\.crt: ENOENT/);
    const insecure = await flowvis(['recordmetrics', '--server', f.server.url, '--token-file', f.tokenFile, '--insecure-skip-tls-verify', '-o', 'json']);
    assert.equal(insecure.code, 0, insecure.err);

    const port = await freePort();
    const refused = await flowvis(['recordmetrics', '--server', `https://127.0.0.1:${port}`, '--token-file', f.tokenFile, '--ca-file', f.caFile]);
    assert.equal(refused.err, `error: cannot connect to https://127.0.0.1:${port} (ECONNREFUSED): is the flow aggregator running at https://127.0.0.1:${port}?\n`);

    await assert.rejects(flowvis(['flowrecords', ...conn, '--srcport', '70000']), /--srcport must be in 0\.\.65535/);
    await assert.rejects(flowvis(['flowrecords', ...conn, '--srcip', '10.0.0']), /--srcip must be an IPv4 or IPv6 address/);
    await assert.rejects(flowvis(['flowrecords', ...conn, '-o', 'wide']), /Allowed choices are table, json, yaml/);
  });

  test('as a separate process: stdout, stderr and the exit status', async () => {
    const run = promisify(execFile);
    const ok = await run(process.execPath, ['--import', 'tsx', GET_CLI, 'flowrecords', ...conn, '-o', 'json', '--srcport', '45000'], { timeout: 30_000 });
    const list = parseJson(ok.stdout) as Record<string, unknown>[];
    assert.deepEqual(list.map((r) => r.correlationState), ['waiting']);
    const port = await freePort();
    await assert.rejects(run(process.execPath, ['--import', 'tsx', GET_CLI, 'recordmetrics', '--server', `https://127.0.0.1:${port}`, '--token-file', f.tokenFile], { timeout: 30_000 }),
      (e: { code?: number; stderr?: string }) => e.code === 1 && /is the flow aggregator running at/.test(e.stderr ?? ''));
  });
});

test('formatTable: antctl layout', () => {
  assert.equal(formatTable(['A', 'BB'], []), '\n');
  assert.equal(formatTable(['A', 'BB', 'C'], [['xyz', '', '1'], ['q', 'r', '']]), 'A   BB     C\nxyz <NONE> 1\nq   r      <NONE>\n');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
