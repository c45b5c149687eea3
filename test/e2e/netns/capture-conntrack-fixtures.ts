/**
 * Regenerates src/conntrack/fixtures/: builds a two-node cluster, creates a known mix of
 * connections in node1's conntrack table (TCP v4 established, TCP v6 closed, UDP v4 with a ct mark
 * and label, ICMP v4/v6, a DNAT'ed TCP connection, a UDP flow in zone 7), then saves
 *   node1-dump.hex      every netlink datagram of one dump (hex, one per line)
 *   node1-extended.txt  `conntrack -L -o extended,id` of both families, taken right after
 *   node1-xml.xml       `conntrack -L -o xml,ktimestamp` of both families
 * Run as root: node --import tsx test/e2e/netns/capture-conntrack-fixtures.ts [OUTDIR]
 * (the unit tests assert values of the committed capture: update them after regenerating).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NetnsCluster } from './cluster.ts';
import { REPO_ROOT } from './exec.ts';

const OUT = process.argv[2] ?? join(REPO_ROOT, 'src/conntrack/fixtures');

async function main(): Promise<void> {
  const cluster = await NetnsCluster.create({
    nodes: [
      { name: 'node1', pods: ['pod-a'] },
      { name: 'node2', pods: ['pod-b'] },
    ],
  });
  try {
    const b = cluster.pod('pod-b');
    await cluster.nft(
      'node1',
      `table ip nat {
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    ip daddr 10.96.0.10 tcp dport 80 dnat to ${b.ipv4}:8080
  }
}
table inet marks {
  chain forward {
    type filter hook forward priority -10; policy accept;
    udp dport 7000 ct mark set 0x2a
    udp dport 7000 ct label set 3
  }
  chain zoneout {
    type filter hook output priority raw; policy accept;
    udp dport 7777 ct zone set 7
  }
}
`,
    );
    cluster.spawn('pod-b', ['socat', 'TCP-LISTEN:8080,reuseaddr,fork', 'EXEC:cat']);
    cluster.spawn('pod-b', ['socat', 'TCP6-LISTEN:8080,ipv6only=1,reuseaddr,fork', 'EXEC:cat']);
    cluster.spawn('pod-b', ['socat', 'UDP-LISTEN:7000,reuseaddr,fork', 'EXEC:cat']);
    await cluster.sh('pod-b', 'for i in $(seq 50); do ss -ltn | grep -c :8080 | grep -q 2 && exit 0; sleep 0.1; done; exit 1');

    const held = cluster.spawn('pod-a', ['socat', '-', `TCP:${b.ipv4}:8080,sourceport=40001`], { stdin: true });
    held.write('hello over tcp\n');
    await held.waitForOutput(/hello over tcp/);
    await cluster.sh('pod-a', `echo v6 | socat -t 0.5 - 'TCP6:[${b.ipv6}]:8080,sourceport=40002'`);
    await cluster.sh('pod-a', `echo udp | socat -t 0.5 - UDP:${b.ipv4}:7000,sourceport=40003`);
    await cluster.exec('pod-a', ['ping', '-c', '2', '-i', '0.2', b.ipv4]);
    await cluster.exec('pod-a', ['ping', '-c', '1', b.ipv6]);
    await cluster.sh('pod-a', `echo dnat | socat -t 0.5 - TCP:10.96.0.10:80,sourceport=40004`);
    await cluster.sh('node1', `echo zone | socat -u - UDP:${cluster.node('node2').ipv4}:7777,sourceport=40005`);

    const dump = await cluster.exec('node1', ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--raw']);
    const v4 = await cluster.exec('node1', ['conntrack', '-L', '-o', 'extended,id', '-f', 'ipv4']);
    const v6 = await cluster.exec('node1', ['conntrack', '-L', '-o', 'extended,id', '-f', 'ipv6']);
    const x4 = await cluster.exec('node1', ['conntrack', '-L', '-o', 'xml,ktimestamp', '-f', 'ipv4']);
    const x6 = await cluster.exec('node1', ['conntrack', '-L', '-o', 'xml,ktimestamp', '-f', 'ipv6']);
    await writeFile(join(OUT, 'node1-dump.hex'), dump.stdout);
    await writeFile(join(OUT, 'node1-extended.txt'), v4.stdout + v6.stdout);
    await writeFile(join(OUT, 'node1-xml.xml'), x4.stdout + x6.stdout);
    process.stdout.write(`wrote fixtures to ${OUT}\n`);
  } finally {
    await cluster.destroy();
  }
}

await main();
