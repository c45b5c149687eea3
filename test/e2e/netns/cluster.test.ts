/** The namespace cluster harness itself: topology, connectivity, tracking, processes, cleanup. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { NetnsCluster } from './cluster.ts';
import { run } from './exec.ts';
import { cleanupStaleNamespaces, listNamespaces, namespaceExists, uniquePrefix } from './names.ts';

describe('NetnsCluster', () => {
  let cluster: NetnsCluster;

  before(async () => {
    cluster = await NetnsCluster.create({
      nodes: [
        { name: 'node1', pods: ['pod-a', 'pod-c'] },
        { name: 'node2', pods: ['pod-b'] },
      ],
      aggregator: true,
    });
  });

  after(async () => {
    await cluster?.destroy();
  });

  it('lays out the documented addresses', () => {
    assert.match(cluster.prefix, /^fvt\d+[a-z0-9]{4}-$/);
    assert.equal(cluster.node('node2').ipv4, '10.0.0.2');
    assert.equal(cluster.pod('pod-a').ipv4, '10.244.1.10');
    assert.equal(cluster.pod('pod-c').ipv4, '10.244.1.11');
    assert.equal(cluster.pod('pod-b').ipv6, 'fd00:244:2::10');
    assert.equal(cluster.aggregator?.ipv4, '10.0.0.254');
    assert.equal(cluster.ns('pod-b'), `${cluster.prefix}pod-b`);
    assert.equal(cluster.namespaces.length, 6 + 1);
  });

  it('routes pod to pod across nodes (IPv4 and IPv6), pod to pod on one node, and to the aggregator', async () => {
    const b = cluster.pod('pod-b');
    await cluster.exec('pod-a', ['ping', '-c1', '-W2', b.ipv4]);
    await cluster.exec('pod-a', ['ping', '-c1', '-W2', b.ipv6]);
    await cluster.exec('pod-c', ['ping', '-c1', '-W2', cluster.pod('pod-a').ipv4]);
    await cluster.exec('pod-c', ['ping', '-c1', '-W2', cluster.pod('pod-a').ipv6]);
    await cluster.exec('pod-a', ['ping', '-c1', '-W2', cluster.node('node1').gatewayIPv4]);
    await cluster.exec('pod-b', ['ping', '-c1', '-W2', cluster.aggregator!.ipv4]);
    await cluster.exec('node1', ['ping', '-c1', '-W2', cluster.aggregator!.ipv6]);
  });

  it('tracks forwarded connections in both node namespaces, with accounting on', async () => {
    await cluster.exec('pod-a', ['ping', '-c1', '-W2', cluster.pod('pod-b').ipv4]);
    await cluster.exec('pod-c', ['ping', '-c1', '-W2', cluster.pod('pod-a').ipv4]);
    const intra = await cluster.exec('node1', ['conntrack', '-L', '-p', 'icmp', '-s', cluster.pod('pod-c').ipv4]);
    assert.match(intra.stdout, /dst=10\.244\.1\.10 /, 'intra-node pod traffic is routed and tracked');
    for (const node of ['node1', 'node2']) {
      const r = await cluster.exec(node, ['conntrack', '-L', '-p', 'icmp']);
      assert.match(r.stdout, /src=10\.244\.1\.10 dst=10\.244\.2\.10 .*packets=1 bytes=84/);
      const s = await cluster.exec(node, ['sysctl', '-n', 'net.netfilter.nf_conntrack_acct', 'net.netfilter.nf_conntrack_timestamp']);
      assert.equal(s.stdout, '1\n1\n');
    }
  });

  it('spawns long-lived processes and waits for their output', async () => {
    const server = cluster.spawn('pod-b', ['socat', '-u', 'TCP-LISTEN:7070,reuseaddr', 'STDOUT']);
    await cluster.sh('pod-b', 'for i in $(seq 100); do ss -ltn | grep -q :7070 && exit 0; sleep 0.05; done; exit 1');
    await cluster.sh('pod-a', `echo harness-ok | socat -u - TCP:${cluster.pod('pod-b').ipv4}:7070`);
    await server.waitForOutput(/harness-ok/);
    assert.equal(await server.exited, 0);
  });

  it('kills processes and removes every namespace on destroy, idempotently', async () => {
    const c = await NetnsCluster.create({ nodes: [{ name: 'n', pods: ['p'] }], ipv6: false });
    const sleeper = c.spawn('p', ['sleep', '600']);
    const stray = spawnSync('ip', ['netns', 'exec', c.ns('n'), 'bash', '-c', 'sleep 600 >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' });
    const strayPid = Number(stray.stdout.trim());
    const names = c.namespaces;
    await c.destroy();
    await c.destroy();
    assert.equal(sleeper.running, false);
    const stat = `/proc/${strayPid}/stat`;
    const state = existsSync(stat) ? readFileSync(stat, 'utf8').split(' ')[2] : 'gone';
    assert.ok(['gone', 'Z'].includes(state), `a process started outside spawn() is killed too (state ${state})`);
    const left = await listNamespaces();
    for (const ns of names) assert.ok(!left.includes(ns), `${ns} deleted`);
  });

  it('cleans up after a failure half-way through create()', async () => {
    const prefix = uniquePrefix();
    await assert.rejects(
      NetnsCluster.create({ prefix, nodes: [{ name: 'n1', pods: ['p1'] }], forwardRules: ['this is not nft'] }),
      /command failed/,
    );
    assert.deepEqual((await listNamespaces()).filter((n) => n.startsWith(prefix)), []);
    await assert.rejects(NetnsCluster.create({ nodes: [{ name: 'x', pods: ['x'] }] }), /duplicate name/);
  });

  it('removes stale namespaces of dead test processes only', async () => {
    const dead = spawnSync('true').pid;
    const stale = `fvt${dead}zzzz-leftover`;
    await run(['ip', 'netns', 'add', stale]);
    const deleted = await cleanupStaleNamespaces();
    assert.ok(deleted.includes(stale));
    assert.equal(await namespaceExists(stale), false);
    assert.ok(await namespaceExists(cluster.ns('node1')), 'live cluster untouched');
  });
});
