/**
 * End-to-end: the netlink conntrack dumper against real kernel conntrack tables of node
 * namespaces carrying real TCP/UDP traffic between pods on two nodes (IPv4 and IPv6), a DNAT'ed
 * "Service" connection, a zone, events, the conntrack-CLI fallback and the sysctls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConntrackEntry } from '../../src/conntrack/entry.ts';
import { IPS } from '../../src/conntrack/constants.ts';
import { NetnsCluster } from './netns/cluster.ts';
import { dumpConntrackIn, entryFromJson, listConntrackExtended } from './netns/conntrack-tools.ts';
import type { ManagedProcess } from './netns/exec.ts';

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const SERVICE_IP = '10.96.0.10';

function find(entries: ConntrackEntry[], pred: (e: ConntrackEntry) => boolean, what: string): ConntrackEntry {
  const found = entries.filter(pred);
  assert.equal(found.length, 1, `exactly one ${what} in ${JSON.stringify(entries.map((e) => e.original))}`);
  return found[0];
}

describe('conntrack over netlink in node namespaces', () => {
  let cluster: NetnsCluster;
  let before4: bigint;
  let after4: bigint;
  const held: ManagedProcess[] = [];

  before(async () => {
    cluster = await NetnsCluster.create({
      nodes: [
        { name: 'node1', pods: ['pod-a'] },
        { name: 'node2', pods: ['pod-b'] },
      ],
    });
    const b = cluster.pod('pod-b');
    // kube-proxy-like DNAT of a ClusterIP on the source node, and a zone for node-local UDP 7777
    await cluster.nft(
      'node1',
      `table ip nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr ${SERVICE_IP} tcp dport 80 dnat to ${b.ipv4}:8080
  }
}
table inet zones {
  chain out {
    type filter hook output priority raw; policy accept;
    udp dport 7777 ct zone set 7
  }
}
`,
    );
    cluster.spawn('pod-b', ['socat', 'TCP-LISTEN:8080,reuseaddr,fork', 'EXEC:cat']);
    cluster.spawn('pod-b', ['socat', 'TCP6-LISTEN:8080,ipv6only=1,reuseaddr,fork', 'EXEC:cat']);
    cluster.spawn('pod-b', ['socat', 'UDP-LISTEN:7000,reuseaddr,fork', 'EXEC:cat']);
    await cluster.sh('pod-b', 'for i in $(seq 100); do [ "$(ss -ltn | grep -c :8080)" = 2 ] && exit 0; sleep 0.05; done; exit 1');

    before4 = nowNs();
    // Long-lived connections (stay ESTABLISHED while the tests run)
    const connect = async (target: string, port: number, msg: string): Promise<void> => {
      const p = cluster.spawn('pod-a', ['socat', '-', `${target},sourceport=${port}`], { stdin: true });
      held.push(p);
      p.write(`${msg}\n`);
      await p.waitForOutput(new RegExp(msg));
    };
    await connect(`TCP:${b.ipv4}:8080`, 40001, 'hello-v4');
    await connect(`TCP6:[${b.ipv6}]:8080`, 40002, 'hello-v6');
    await connect(`TCP:${SERVICE_IP}:80`, 40004, 'hello-service');
    await cluster.sh('pod-a', `echo udp | socat -t 0.3 - UDP:${b.ipv4}:7000,sourceport=40003`);
    await cluster.sh('node1', `echo zone | socat -u - UDP:${cluster.node('node2').ipv4}:7777,sourceport=40005`);
    after4 = nowNs();
  });

  after(async () => {
    await cluster?.destroy();
  });

  it('dumps the TCP connection from both node namespaces: 5-tuple, state, counters and timestamps', async () => {
    const a = cluster.pod('pod-a');
    const b = cluster.pod('pod-b');
    for (const node of ['node1', 'node2']) {
      const entries = await dumpConntrackIn(cluster.ns(node));
      const e = find(entries, (x) => x.original.srcPort === 40001 && x.original.protocol === 6, 'TCP 40001');
      assert.equal(e.family, 'ipv4');
      assert.deepEqual(
        [e.original.src, e.original.dst, e.original.srcPort, e.original.dstPort],
        [a.ipv4, b.ipv4, 40001, 8080],
      );
      assert.deepEqual([e.reply.src, e.reply.dst, e.reply.srcPort, e.reply.dstPort], [b.ipv4, a.ipv4, 8080, 40001]);
      assert.equal(e.tcpState, 'ESTABLISHED');
      assert.equal(e.status & IPS.ASSURED, IPS.ASSURED);
      assert.ok(e.origPackets >= 3n && e.replyPackets >= 2n, 'handshake + data in both directions');
      assert.ok(e.startTime >= before4 - 1_000_000_000n && e.startTime <= after4 + 1_000_000_000n, 'start time');
      assert.equal(e.stopTime, 0n);
      assert.ok(e.timeout > 400_000, 'established TCP timeout (5 days)');

      // the same entry as conntrack-tools prints it
      const lines = await listConntrackExtended(cluster.ns(node), 'ipv4');
      const line = lines.find((l) => l.original.sport === '40001');
      assert.ok(line, 'conntrack -L shows the connection');
      assert.equal(line.state, e.tcpState);
      assert.equal(BigInt(line.original.packets), e.origPackets);
      assert.equal(BigInt(line.original.bytes), e.origBytes);
      assert.equal(BigInt(line.reply.packets), e.replyPackets);
      assert.equal(BigInt(line.reply.bytes), e.replyBytes);
      assert.equal(Number(line.extra.id), e.id);
      assert.equal(Number(line.extra.mark), e.mark);
    }
  });

  it('sees identical counters on the source and the destination node', async () => {
    const [n1, n2] = await Promise.all([dumpConntrackIn(cluster.ns('node1')), dumpConntrackIn(cluster.ns('node2'))]);
    const pick = (es: ConntrackEntry[]) => find(es, (x) => x.original.srcPort === 40001, 'TCP 40001');
    const [e1, e2] = [pick(n1), pick(n2)];
    assert.deepEqual(
      [e1.origPackets, e1.origBytes, e1.replyPackets, e1.replyBytes],
      [e2.origPackets, e2.origBytes, e2.replyPackets, e2.replyBytes],
    );
  });

  it('dumps UDP and IPv6 connections', async () => {
    const a = cluster.pod('pod-a');
    const b = cluster.pod('pod-b');
    const entries = await dumpConntrackIn(cluster.ns('node2'));
    const udp = find(entries, (x) => x.original.protocol === 17 && x.original.srcPort === 40003, 'UDP 40003');
    assert.deepEqual([udp.original.src, udp.original.dst, udp.original.dstPort], [a.ipv4, b.ipv4, 7000]);
    assert.equal(udp.tcpState, '');
    assert.deepEqual([udp.origPackets, udp.origBytes, udp.replyPackets, udp.replyBytes], [1n, 32n, 1n, 32n]);
    assert.equal(udp.status & IPS.SEEN_REPLY, IPS.SEEN_REPLY);

    const v6 = find(entries, (x) => x.family === 'ipv6' && x.original.srcPort === 40002, 'TCP6 40002');
    assert.deepEqual([v6.original.src, v6.original.dst, v6.original.dstPort], [a.ipv6, b.ipv6, 8080]);
    assert.equal(v6.reply.src, b.ipv6);
    assert.equal(v6.tcpState, 'ESTABLISHED');
    const line = (await listConntrackExtended(cluster.ns('node2'), 'ipv6')).find((l) => l.original.sport === '40002');
    assert.ok(line);
    assert.equal(BigInt(line.original.bytes), v6.origBytes);
    assert.equal(BigInt(line.reply.bytes), v6.replyBytes);

    const only6 = await dumpConntrackIn(cluster.ns('node2'), ['--family', 'ipv6']);
    assert.ok(only6.length > 0 && only6.every((x) => x.family === 'ipv6'));
  });

  it('gives the post-DNAT destination in the reply tuple on the DNAT node', async () => {
    const a = cluster.pod('pod-a');
    const b = cluster.pod('pod-b');
    const n1 = find(await dumpConntrackIn(cluster.ns('node1')), (x) => x.original.srcPort === 40004, 'service conn');
    assert.deepEqual([n1.original.src, n1.original.dst, n1.original.dstPort], [a.ipv4, SERVICE_IP, 80]);
    assert.deepEqual([n1.reply.src, n1.reply.srcPort, n1.reply.dst], [b.ipv4, 8080, a.ipv4]);
    assert.equal(n1.status & IPS.DST_NAT, IPS.DST_NAT);
    // the destination node sees the already translated connection
    const n2 = find(await dumpConntrackIn(cluster.ns('node2')), (x) => x.original.srcPort === 40004, 'service conn');
    assert.deepEqual([n2.original.dst, n2.original.dstPort], [b.ipv4, 8080]);
    assert.equal(n2.status & IPS.DST_NAT, 0);
  });

  it('filters by conntrack zone', async () => {
    const zoned = await dumpConntrackIn(cluster.ns('node1'), ['--zone', '7']);
    assert.ok(zoned.length >= 1);
    assert.ok(zoned.every((e) => e.zone === 7));
    assert.ok(zoned.some((e) => e.original.dstPort === 7777));
    const all = await dumpConntrackIn(cluster.ns('node1'));
    assert.ok(all.some((e) => e.zone === 7) && all.some((e) => e.zone === 0));
    const zone0 = await dumpConntrackIn(cluster.ns('node1'), ['--zone', '0']);
    assert.equal(zone0.length, all.filter((e) => e.zone === 0).length, 'zone 0 filtered in userspace too');
  });

  it('the conntrack CLI fallback yields the same entries', async () => {
    const ns = cluster.ns('node1');
    const viaNetlink = await dumpConntrackIn(ns);
    const viaCli = await dumpConntrackIn(ns, ['--source', 'conntrack-cli']);
    assert.equal(viaCli.length, viaNetlink.length);
    for (const port of [40001, 40002, 40004]) {
      const n = find(viaNetlink, (x) => x.original.srcPort === port, `netlink ${port}`);
      const c = find(viaCli, (x) => x.original.srcPort === port, `cli ${port}`);
      assert.deepEqual(c.original, n.original);
      assert.deepEqual(c.reply, n.reply);
      for (const k of ['origPackets', 'origBytes', 'replyPackets', 'replyBytes', 'startTime', 'tcpState', 'mark', 'zone', 'id'] as const) {
        assert.equal(c[k], n[k], k);
      }
    }
  });

  it('delivers NEW, UPDATE and DESTROY events', async () => {
    const b = cluster.pod('pod-b');
    const watcher = cluster.spawn('node2', ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--events']);
    try {
      await watcher.waitForOutput(/"ready":true/, 15_000);
      await cluster.sh('pod-a', `echo ev | socat -t 0.3 - UDP:${b.ipv4}:7000,sourceport=40203`);
      await cluster.exec('node2', ['conntrack', '-D', '-p', 'udp', '--orig-port-src', '40203']);
      await watcher.waitForOutput(/"event":"destroy".*"srcPort":40203/, 10_000);
      const events = watcher.stdout
        .split('\n')
        .filter((l) => l.includes('"event"'))
        .map((l) => JSON.parse(l) as { event: string; entry: unknown })
        .map((x) => ({ event: x.event, entry: entryFromJson(JSON.stringify(x.entry)) }))
        .filter((x) => x.entry.original.srcPort === 40203);
      const kinds = events.map((x) => x.event);
      assert.equal(kinds[0], 'new');
      assert.ok(kinds.includes('update'), `update seen in ${kinds.join(',')}`);
      assert.equal(kinds.at(-1), 'destroy');
      const destroy = events.at(-1)!.entry;
      assert.equal(destroy.original.dstPort, 7000);
      assert.equal(destroy.origPackets, 1n);
      assert.equal(destroy.replyPackets, 1n);
      assert.ok(destroy.stopTime >= destroy.startTime && destroy.stopTime > 0n, 'stop time set on destroy');
    } finally {
      await watcher.kill();
    }
  });

  it('enables acct/timestamp sysctls and reads max/count in a fresh namespace', async () => {
    const ns = await cluster.createNamespace('bare');
    const r = await cluster.exec(ns, ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--sysctls']);
    const { sysctls } = JSON.parse(r.stdout) as { sysctls: { warnings: string[]; max: number; count: number } };
    assert.deepEqual(sysctls.warnings, []);
    assert.ok(sysctls.max > 0);
    assert.equal(sysctls.count, 0);
    const now = await cluster.exec(ns, ['sysctl', '-n', 'net.netfilter.nf_conntrack_acct', 'net.netfilter.nf_conntrack_timestamp']);
    assert.deepEqual(now.stdout.trim().split('\n'), ['1', '1']);
  });

  it('reports a kernel refusal (EPERM for an unprivileged dump) as a typed error', async () => {
    const r = await cluster.exec(
      'node1',
      ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'node', '--import', 'tsx', 'src/conntrack/dump-cli.ts'],
      { allowFailure: true },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /NETLINK_ERRNO: conntrack dump: kernel replied EPERM/);
  });

  it('API in-process: serialised dumps, visitor errors, dumpAll, zone checks, events iterator, close', async () => {
    const r = await cluster.exec('node1', [
      'node',
      '--import',
      'tsx',
      'test/e2e/netns/conntrack-probe.ts',
      cluster.node('node2').ipv4,
    ]);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & {
      first: { visited: number; received: number; malformed: number; hasDuration: boolean };
      concurrent: number[];
    };
    assert.equal(out.factoryKind, 'netlink');
    assert.equal(out.fallbackReason, null);
    assert.ok(out.first.visited >= 4);
    assert.equal(out.first.received, out.first.visited);
    assert.equal(out.first.malformed, 0);
    assert.equal(out.first.hasDuration, true);
    assert.deepEqual(out.visitorThrow, { thrown: 'rejected with the visitor error', visitorCalls: 1 });
    assert.equal(out.afterThrowVisited, out.first.visited, 'the socket stays usable after a visitor error');
    assert.deepEqual(out.concurrent, [out.first.visited, out.first.visited]);
    assert.equal(out.dumpAllLength, out.first.visited);
    assert.equal(out.zone0, true);
    assert.equal(out.badZone, 'DUMP_OPTIONS');
    assert.deepEqual(out.event, { type: 'new', dst: cluster.node('node2').ipv4, dstPort: 7999 });
    assert.equal(out.afterClose, 'SOURCE_CLOSED');
  });

  it('stops held connections cleanly (FIN) and reports the new TCP state', async () => {
    const p = held[0];
    p.child.stdin?.end();
    await p.exited;
    const e = find(await dumpConntrackIn(cluster.ns('node2')), (x) => x.original.srcPort === 40001, 'TCP 40001');
    assert.ok(['TIME_WAIT', 'CLOSE', 'LAST_ACK', 'FIN_WAIT', 'CLOSE_WAIT'].includes(e.tcpState), e.tcpState);
  });
});
