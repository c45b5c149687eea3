/**
 * Interop: pmacctd → our collector (the `flowvis collector` CLI) over UDP gives the same records
 * as nfacctd sees from the same exporter.
 *
 * Two network namespaces joined by a veth pair; pmacctd captures on the veth in namespace a with two
 * nfprobe plugins exporting IPFIX, one to our collector and one to nfacctd, both on a's loopback.
 * ping, ping -6 and socat (TCP and UDP) from namespace b make the traffic. The two plugins may cut
 * a flow at different moments, so flows are compared as per-5-tuple sums of packets and octets;
 * only flows between the two namespaces' addresses count (link-local IPv6 chatter is left out).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { stopWithChildren } from './helpers-transport/processes.ts';
import { ADDRESS_A, ADDRESS6_A, NetnsPair, VETH } from './peers/netns.ts';
import { freeUdpPort } from './peers/nfdump.ts';
import { Daemon, haveCommand, pollUntil } from './peers/process.ts';
import { TempDir } from './peers/tempdir.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const available = process.getuid?.() === 0 && await haveCommand('pmacctd') && await haveCommand('nfacctd') && await haveCommand('socat');

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp' };
const ours = (s: string): boolean => s.startsWith('10.201.0.') || s.startsWith('fd00:201::');

type Sums = Map<string, [number, number]>;

function add(sums: Sums, src: string, dst: string, sp: number, dp: number, proto: string, packets: number, bytes: number): void {
  if (!ours(src) || !ours(dst)) return;
  const k = `${src} ${sp} > ${dst} ${dp} /${proto}`;
  const s = sums.get(k) ?? [0, 0];
  sums.set(k, [s[0] + packets, s[1] + bytes]);
}

function nfacctdFlows(file: string): Sums {
  const sums: Sums = new Map();
  if (!existsSync(file)) return sums;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const f = JSON.parse(line) as { ip_src: string; ip_dst: string; port_src: number; port_dst: number; ip_proto: string; packets: number; bytes: number };
    add(sums, f.ip_src, f.ip_dst, f.port_src, f.port_dst, f.ip_proto, f.packets, f.bytes);
  }
  return sums;
}

/** Our collector's JSON lines (its stdout and stderr share the daemon's log; records start with exporterAddress). */
function ourFlows(output: string): Sums {
  const sums: Sums = new Map();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{"exporterAddress"')) continue;
    const d = (JSON.parse(line) as { data: Record<string, string | number> }).data;
    const src = String(d.sourceIPv4Address ?? d.sourceIPv6Address);
    const dst = String(d.destinationIPv4Address ?? d.destinationIPv6Address);
    add(sums, src, dst, Number(d.sourceTransportPort), Number(d.destinationTransportPort), PROTO[Number(d.protocolIdentifier)] ?? String(d.protocolIdentifier), Number(d.packetDeltaCount), Number(d.octetDeltaCount));
  }
  return sums;
}

describe('pmacctd → our collector and nfacctd', { skip: available ? false : 'needs root, pmacctd, nfacctd and socat' }, () => {
  let net: NetnsPair;
  let dir: TempDir;
  const daemons: Array<() => Promise<void>> = [];
  before(async () => {
    dir = new TempDir('fvt-pmacctd-');
    net = await NetnsPair.create();
  });
  after(async () => {
    for (const stop of daemons.reverse()) await stop().catch(() => {});
    await net?.destroy();
    dir?.remove();
  });

  it('our collector decodes the same flows as nfacctd', async () => {
    const [ourPort, nfPort] = [await freeUdpPort(), await freeUdpPort()];
    const nfOut = dir.file('nfacctd.json');
    writeFileSync(dir.file('nfacctd.conf'), [
      'daemonize: false', 'nfacctd_ip: 127.0.0.1', `nfacctd_port: ${nfPort}`, 'plugins: print[out]',
      'aggregate[out]: src_host, dst_host, src_port, dst_port, proto', 'print_output[out]: json',
      'print_refresh_time[out]: 1', `print_output_file[out]: ${nfOut}`, 'print_output_file_append[out]: true', '',
    ].join('\n'));
    const nfacctd = await Daemon.start('ip', NetnsPair.execArgs(net.a, 'nfacctd', ['-f', dir.file('nfacctd.conf')]), { ready: /waiting for NetFlow\/IPFIX data[\s\S]*Purging cache - END/, readyTimeoutMs: 15_000 });
    daemons.push(() => stopWithChildren(nfacctd, 'nfacctd'));
    const collector = await Daemon.start('ip', NetnsPair.execArgs(net.a, process.execPath, [
      '--import', 'tsx', `${ROOT}src/cli/collector.ts`, '--proto', 'udp', '--address', '127.0.0.1', '--port', String(ourPort),
      '--output', 'json', '--log-level', 'info',
    ]), { ready: /IPFIX collector listening/, readyTimeoutMs: 20_000 });
    daemons.push(() => collector.stop('SIGTERM', 5000));

    writeFileSync(dir.file('pmacctd.conf'), [
      'daemonize: false', `pcap_interface: ${VETH}`, 'plugins: nfprobe[ours], nfprobe[nf]',
      `nfprobe_receiver[ours]: 127.0.0.1:${ourPort}`, `nfprobe_receiver[nf]: 127.0.0.1:${nfPort}`,
      'nfprobe_version: 10', 'nfprobe_engine: 77',
      'nfprobe_timeouts: tcp=1:tcp.rst=1:tcp.fin=1:udp=1:icmp=1:general=1:maxlife=60:expint=1',
      'aggregate: src_host, dst_host, src_port, dst_port, proto, tos, tcpflags', '',
    ].join('\n'));
    const pmacctd = await Daemon.start('ip', NetnsPair.execArgs(net.a, 'pmacctd', ['-f', dir.file('pmacctd.conf')]), {
      ready: /link type is[\s\S]*Exporting flows to[\s\S]*Exporting flows to|Exporting flows to[\s\S]*link type is/, readyTimeoutMs: 10_000,
    });
    daemons.push(() => stopWithChildren(pmacctd, 'pmacctd'));

    // Traffic from namespace b to a: ICMP, ICMPv6, a TCP connection carrying 20 kB, UDP datagrams.
    const tcpServer = await Daemon.start('ip', NetnsPair.execArgs(net.a, 'socat', ['-u', 'TCP-LISTEN:5555,reuseaddr', 'OPEN:/dev/null']));
    daemons.push(() => tcpServer.stop('SIGKILL'));
    const udpServer = await Daemon.start('ip', NetnsPair.execArgs(net.a, 'socat', ['-u', 'UDP-RECV:5556', 'OPEN:/dev/null']));
    daemons.push(() => udpServer.stop('SIGKILL'));
    await net.exec(net.b, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', ADDRESS_A], { timeoutMs: 10_000 });
    await net.exec(net.b, 'ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', ADDRESS6_A], { timeoutMs: 10_000 });
    await pollUntil('the TCP listener', async () => ((await net.exec(net.a, 'ss', ['-ltn', 'sport = :5555'], { check: false })).stdout.includes('5555') ? true : undefined), 5000, 50);
    await net.exec(net.b, 'socat', ['-u', '-', `TCP:${ADDRESS_A}:5555`], { input: Buffer.alloc(20_000, 7), timeoutMs: 10_000 });
    for (let i = 0; i < 3; i++) await net.exec(net.b, 'socat', ['-u', '-', `UDP-SENDTO:${ADDRESS_A}:5556,sourceport=5557`], { input: Buffer.alloc(100 + i, 1), timeoutMs: 5000 });

    const wanted = (s: Sums): boolean => {
      const keys = [...s.keys()];
      return ['/icmp', '/ipv6-icmp', '/tcp', '/udp'].every((p) => keys.some((k) => k.endsWith(p)));
    };
    let last: [Sums, Sums] = [new Map(), new Map()];
    await pollUntil('both collectors to hold the same flows', () => {
      last = [ourFlows(collector.log), nfacctdFlows(nfOut)];
      return wanted(last[1]) && JSON.stringify([...last[0]].sort()) === JSON.stringify([...last[1]].sort()) ? true : undefined;
    }, 25_000, 250).catch((e: Error) => {
      throw new Error(`${e.message}\nours: ${JSON.stringify([...last[0]])}\nnfacctd: ${JSON.stringify([...last[1]])}\n${pmacctd.log.slice(-2000)}`);
    });
    const [mine, theirs] = last;
    assert.deepEqual(mine, theirs);
    const tcp = [...mine].find(([k]) => k.startsWith('10.201.0.2') && k.endsWith('5555 /tcp'));
    assert.ok(tcp && tcp[1][1] > 20_000, 'the TCP flow carries the 20 kB sent');
    assert.doesNotMatch(collector.log, /decode error/);
  });
});
