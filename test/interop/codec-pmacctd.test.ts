/**
 * Interop: IPFIX exported by pmacctd (pmacct 1.7, nfprobe plugin) from real traffic is decoded by
 * our SessionDecoder exactly as tshark decodes it, field by field (addresses, ports, protocol,
 * counters, 1-octet tcpControlBits, millisecond time stamps, headers, templates, set padding).
 *
 * Live: two network namespaces joined by a veth pair; pmacctd watches the veth in namespace a and
 * exports to 127.0.0.1 there, where tcpdump records the datagrams; ping, ping -6 and socat (TCP and
 * UDP) make the traffic. Fixture: one such capture with tshark's decode stored beside it, checked
 * even where pmacctd, tshark or root are unavailable. FLOWVIS_UPDATE_FIXTURES=1 replaces the fixture
 * with the live capture (also the IPFIX file pmacctd.ipfix: the same messages back to back, a fuzz seed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DataRecord, DecodedMessage, FieldValue } from '../../src/ipfix/index.ts';
import { decodeDatagrams } from './peers/capture-decoder.ts';
import { ADDRESS_A, ADDRESS_B, ADDRESS6_A, ADDRESS6_B, NetnsPair, VETH } from './peers/netns.ts';
import { readUdpDatagrams, type UdpDatagram } from './peers/pcap.ts';
import { Pmacctd } from './peers/pmacctd.ts';
import { Daemon, haveCommand, pollUntil } from './peers/process.ts';
import { startCapture } from './peers/tcpdump.ts';
import { TempDir } from './peers/tempdir.ts';
import { tsharkDecode, type TsharkMessage } from './peers/tshark.ts';
import { compareMessage } from './peers/tshark-compare.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const FIXTURE_PCAP = fixture('pmacctd-ipfix.pcap');
const FIXTURE_TSHARK = fixture('pmacctd-ipfix.tshark.json');
const FIXTURE_IPFIX = fixture('pmacctd.ipfix');

const COLLECTOR_PORT = 47390;
const OBSERVATION_DOMAIN = 4242;
const TCP_PORT = 5555;
const UDP_PORT = 5556;
const TCP_BYTES = 20_000;

function value(r: DataRecord, name: string): FieldValue | undefined {
  const i = r.template.indexOf(name);
  return i < 0 ? undefined : r.values[i];
}

/** Every decoded record, field by field, equals tshark's decode of the same capture. */
function compareCapture(ours: readonly DecodedMessage[], theirs: readonly TsharkMessage[]): string[] {
  if (ours.length !== theirs.length) return [`${ours.length} messages decoded by us, ${theirs.length} by tshark`];
  return ours.flatMap((m, i) => compareMessage(m, theirs[i], `message ${i} (frame ${theirs[i].frame})`));
}

interface TrafficSeen {
  icmpPackets: number;
  icmp6Packets: number;
  tcpOctets: bigint;
  tcpFlags: number;
  udpPackets: number;
}

/** Sums what our decoder sees of the generated traffic (flows from namespace a to b). */
function trafficSeen(messages: readonly DecodedMessage[]): TrafficSeen {
  const seen: TrafficSeen = { icmpPackets: 0, icmp6Packets: 0, tcpOctets: 0n, tcpFlags: 0, udpPackets: 0 };
  for (const r of messages.flatMap((m) => m.records)) {
    const src = value(r, 'sourceIPv4Address') ?? value(r, 'sourceIPv6Address');
    const dst = value(r, 'destinationIPv4Address') ?? value(r, 'destinationIPv6Address');
    const proto = value(r, 'protocolIdentifier');
    const packets = Number(value(r, 'packetDeltaCount') ?? 0);
    const v4 = src === ADDRESS_A && dst === ADDRESS_B;
    if (v4 && proto === 1) seen.icmpPackets += packets;
    if (src === ADDRESS6_A && dst === ADDRESS6_B && proto === 58) seen.icmp6Packets += packets;
    if (v4 && proto === 6 && value(r, 'destinationTransportPort') === TCP_PORT) {
      seen.tcpOctets += BigInt(value(r, 'octetDeltaCount') as bigint);
      seen.tcpFlags |= Number(value(r, 'tcpControlBits'));
    }
    if (v4 && proto === 17 && value(r, 'destinationTransportPort') === UDP_PORT) seen.udpPackets += packets;
  }
  return seen;
}

function complete(s: TrafficSeen): boolean {
  return s.icmpPackets >= 3 && s.icmp6Packets >= 2 && s.tcpOctets >= BigInt(TCP_BYTES) && (s.tcpFlags & 0x03) === 0x03 && s.udpPackets >= 1;
}

function assertPmacctdShape(messages: readonly DecodedMessage[]): void {
  const templates = messages.flatMap((m) => m.templates);
  assert.ok(templates.length > 0, 'pmacctd sent templates');
  for (const t of templates) {
    // pmacctd's reduced-size encoding: tcpControlBits (unsigned16) in one octet.
    const flags = t.fields.find((f) => f.ie.name === 'tcpControlBits');
    assert.equal(flags?.length, 1, `template ${t.id} tcpControlBits length`);
    assert.ok(t.names.includes('flowStartMilliseconds') && t.names.includes('flowEndMilliseconds'), `template ${t.id} has ms time stamps`);
  }
  for (const m of messages) {
    assert.deepEqual(m.errors, []);
    assert.equal(m.unknownTemplateSets, 0);
    assert.equal(m.header?.observationDomainId, OBSERVATION_DOMAIN);
  }
  for (const r of messages.flatMap((m) => m.records)) {
    const start = value(r, 'flowStartMilliseconds') as number;
    const end = value(r, 'flowEndMilliseconds') as number;
    assert.ok(start <= end && end <= r.header.exportTime * 1000 + 1000, `record times ${start}..${end}, export ${r.header.exportTime}`);
  }
}

describe('pmacctd capture fixture: our decoder equals tshark\'s stored decode', () => {
  test('every message, template and record field', () => {
    const datagrams = readUdpDatagrams(readFileSync(FIXTURE_PCAP)).filter((d) => d.dstPort === COLLECTOR_PORT);
    const theirs = JSON.parse(readFileSync(FIXTURE_TSHARK, 'utf8')) as TsharkMessage[];
    const ours = decodeDatagrams(datagrams);
    assert.deepEqual(compareCapture(ours, theirs), []);
    assertPmacctdShape(ours);
    assert.ok(complete(trafficSeen(ours)), JSON.stringify(trafficSeen(ours), (_, v) => (typeof v === 'bigint' ? String(v) : v)));
    // The IPFIX file (fuzz seed) holds the same messages back to back.
    assert.deepEqual(readFileSync(FIXTURE_IPFIX), Buffer.concat(datagrams.map((d) => d.payload)));
  });
});

describe('pmacctd exporting IPFIX from live traffic in a network namespace', { timeout: 60_000 }, () => {
  const dir = new TempDir();
  let pair: NetnsPair | undefined;
  let pmacctd: Pmacctd | undefined;
  let capture: Daemon | undefined;
  let listener: Daemon | undefined;
  let datagrams: UdpDatagram[] = [];
  let ours: DecodedMessage[] = [];
  let skip: string | false = false;
  const pcap = dir.file('pmacctd.pcap');

  before(async () => {
    if (process.getuid?.() !== 0) { skip = 'needs root (network namespaces)'; return; }
    for (const cmd of ['pmacctd', 'tcpdump', 'tshark', 'socat', 'ping', 'ip']) {
      if (!(await haveCommand(cmd))) { skip = `${cmd} is not installed (scripts/install-deps.sh installs it)`; return; }
    }
    pair = await NetnsPair.create();
    capture = await startCapture({ netns: pair.a, iface: 'lo', filter: `udp port ${COLLECTOR_PORT}`, file: pcap });
    pmacctd = await Pmacctd.start({
      netns: pair.a, iface: VETH, receiver: `127.0.0.1:${COLLECTOR_PORT}`, configFile: dir.file('pmacctd.conf'), observationDomainId: OBSERVATION_DOMAIN,
    });
    // Traffic from a to b: ICMP echo (v4 and v6), one TCP connection carrying 20 kB, one UDP datagram.
    listener = await Daemon.start('ip', NetnsPair.execArgs(pair.b, 'socat', ['-d', '-d', '-u', `TCP-LISTEN:${TCP_PORT},reuseaddr`, 'OPEN:/dev/null']), { ready: /listening on/ });
    await pair.exec(pair.a, 'ping', ['-n', '-q', '-c', '3', '-i', '0.2', '-W', '2', ADDRESS_B]);
    await pair.exec(pair.a, 'ping', ['-6', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '2', ADDRESS6_B]);
    await pair.exec(pair.a, 'socat', ['-u', 'STDIN', `TCP:${ADDRESS_B}:${TCP_PORT}`], { input: randomBytes(TCP_BYTES) });
    await pair.exec(pair.a, 'socat', ['-u', 'STDIN', `UDP:${ADDRESS_B}:${UDP_PORT}`], { input: 'hello ipfix\n' });
    // pmacctd expires idle flows after 1 s (checked every second); wait until all of them were exported.
    await pollUntil('pmacctd to export the generated flows', () => {
      const now = readUdpDatagrams(readFileSync(pcap), true);
      return complete(trafficSeen(decodeDatagrams(now))) ? true : undefined;
    }, 20_000, 200).catch((e: Error) => {
      throw new Error(`${e.message}\npmacctd log:\n${pmacctd?.log}`);
    });
    await pmacctd.stop();
    await capture.stop('SIGINT');
    datagrams = readUdpDatagrams(readFileSync(pcap)).filter((d) => d.dstPort === COLLECTOR_PORT);
    ours = decodeDatagrams(datagrams);
  });

  after(async () => {
    await listener?.stop('SIGKILL');
    await pmacctd?.stop();
    await capture?.stop('SIGINT');
    await pair?.destroy();
    dir.remove();
  });

  test('our decoder and tshark agree on every message, template and record field', async (t) => {
    if (skip) return t.skip(skip);
    const theirs = await tsharkDecode(pcap, { udpPorts: [COLLECTOR_PORT] });
    assert.ok(datagrams.length >= 2, `${datagrams.length} datagrams captured`);
    assert.deepEqual(compareCapture(ours, theirs), []);
    if (process.env.FLOWVIS_UPDATE_FIXTURES === '1') {
      copyFileSync(pcap, FIXTURE_PCAP);
      writeFileSync(FIXTURE_TSHARK, JSON.stringify(theirs, null, 1) + '\n');
      writeFileSync(FIXTURE_IPFIX, Buffer.concat(datagrams.map((d) => d.payload)));
    }
  });

  test('the records are pmacctd\'s (reduced-size tcpControlBits, ms time stamps) and hold the generated traffic', (t) => {
    if (skip) return t.skip(skip);
    assertPmacctdShape(ours);
    const seen = trafficSeen(ours);
    assert.ok(seen.icmpPackets >= 3 && seen.icmp6Packets >= 2 && seen.udpPackets >= 1, JSON.stringify({ ...seen, tcpOctets: String(seen.tcpOctets) }));
    // 20 kB of payload plus TCP/IP headers; SYN and FIN seen.
    assert.ok(seen.tcpOctets >= BigInt(TCP_BYTES), `TCP octets ${seen.tcpOctets}`);
    assert.equal(seen.tcpFlags & 0x03, 0x03);
  });
});
