/**
 * End-to-end: packets dropped by an nft rule with `log ... group N` reach the NFLOG listener
 * (run inside the node namespace) with the right 5-tuple, prefix and length; dropped packets
 * leave no conntrack entry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NflogPacket } from '../../src/conntrack/nflog-parser.ts';
import { NetnsCluster } from './netns/cluster.ts';
import { dumpConntrackIn } from './netns/conntrack-tools.ts';
import type { ManagedProcess } from './netns/exec.ts';

const GROUP = 5;
const PREFIX = 'DROP9999 ';

function packets(proc: ManagedProcess): NflogPacket[] {
  return proc.stdout
    .split('\n')
    .filter((l) => l.startsWith('{"nflog"'))
    .map((l) => {
      const p = (JSON.parse(l) as { nflog: NflogPacket & { timestamp: string } }).nflog;
      return { ...p, timestamp: BigInt(p.timestamp) };
    });
}

describe('NFLOG listener in a node namespace', () => {
  let cluster: NetnsCluster;
  let listener: ManagedProcess;

  before(async () => {
    cluster = await NetnsCluster.create({
      nodes: [
        { name: 'node1', pods: ['pod-a'] },
        { name: 'node2', pods: ['pod-b'] },
      ],
      forwardRules: [`tcp dport 9999 counter log prefix "${PREFIX}" group ${GROUP} drop`],
    });
    listener = cluster.spawn('node1', ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--nflog', String(GROUP)]);
    await listener.waitForOutput(/"ready":true/, 15_000);
  });

  after(async () => {
    await cluster?.destroy();
  });

  for (const family of ['ipv4', 'ipv6'] as const) {
    it(`receives a dropped ${family} TCP SYN with its 5-tuple and prefix`, async () => {
      const a = cluster.pod('pod-a');
      const b = cluster.pod('pod-b');
      const sport = family === 'ipv4' ? 40100 : 40106;
      const target = family === 'ipv4' ? `TCP:${b.ipv4}:9999` : `TCP6:[${b.ipv6}]:9999`;
      const sent = BigInt(Date.now()) * 1_000_000n;
      const client = cluster.spawn('pod-a', ['socat', '-u', '-', `${target},sourceport=${sport},connect-timeout=5`], {
        stdin: true,
      });
      try {
        await listener.waitForOutput(new RegExp(`"srcPort":${sport}`), 10_000);
      } finally {
        await client.kill();
      }
      const p = packets(listener).find((x) => x.srcPort === sport);
      assert.ok(p);
      assert.equal(p.group, GROUP);
      assert.equal(p.prefix, PREFIX);
      assert.equal(p.family, family);
      assert.equal(p.src, family === 'ipv4' ? a.ipv4 : a.ipv6);
      assert.equal(p.dst, family === 'ipv4' ? b.ipv4 : b.ipv6);
      assert.equal(p.protocol, 6);
      assert.equal(p.dstPort, 9999);
      // a Linux SYN: 20 (IPv4) or 40 (IPv6) header bytes + 40 TCP header bytes with options
      assert.equal(p.ipLength, family === 'ipv4' ? 60 : 80);
      assert.ok(p.indev > 0 && p.outdev > 0, 'forwarded packet: both interfaces');
      assert.ok(p.timestamp >= sent - 2_000_000_000n && p.timestamp <= sent + 10_000_000_000n, 'timestamp');

      const entries = await dumpConntrackIn(cluster.ns('node1'));
      assert.ok(!entries.some((e) => e.original.dstPort === 9999), 'a dropped packet creates no conntrack entry');
    });
  }

  it('refuses a second listener on the same group with a typed error', async () => {
    const r = await cluster.exec('node1', ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--nflog', String(GROUP)], {
      allowFailure: true,
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 1);
    // the kernel answers EPERM when another socket owns the group
    assert.match(r.stderr, /NETLINK_ERRNO: NFLOG configuration of group 5: kernel replied EPERM/);
    assert.ok(listener.running, 'the first listener keeps running');
  });
});
