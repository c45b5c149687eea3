/**
 * Interop: nfcapd (nfdump 1.7), a widely deployed collector, receives our messages over a real UDP
 * socket on loopback and stores one flow per data record with the 5-tuple, forward counters and
 * reverse (RFC 5103) counters we wrote.
 *
 * nfdump 1.7 limits, not checked here: it ignores flowStartSeconds/flowEndSeconds (Antrea's time
 * stamps) and shows reverseTcpControlBits (29305/6) as the forward TCP flags; it counts a sequence
 * error when a message holds options records (it does not count them as RFC 7011 §3.1 says).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FieldValue, Template } from '../../src/ipfix/index.ts';
import { flowsReceived, freeUdpPort, nfdumpFlows, sendDatagrams, startNfcapd, type NfdumpFlow } from './peers/nfdump.ts';
import { ipv6Bytes } from './peers/pcap.ts';
import { Daemon, haveCommand, pollUntil } from './peers/process.ts';
import { sampleMessages } from './peers/sample-messages.ts';
import { TempDir } from './peers/tempdir.ts';

/** What nfdump should show for a record: the IANA elements it maps, by template element name. */
function expectedFlow(t: Template, values: readonly FieldValue[]): Record<string, string | number> {
  const v = (name: string): FieldValue | undefined => (t.indexOf(name) < 0 ? undefined : values[t.indexOf(name)]);
  const out: Record<string, string | number> = {
    proto: Number(v('protocolIdentifier') ?? 0),
    src_port: Number(v('sourceTransportPort') ?? 0),
    dst_port: Number(v('destinationTransportPort') ?? 0),
    in_packets: Number(v('packetDeltaCount') ?? 0),
    in_bytes: Number(v('octetDeltaCount') ?? v('octetTotalCount') ?? 0),
  };
  if (v('reversePacketDeltaCount') !== undefined) out.out_packets = Number(v('reversePacketDeltaCount'));
  if (v('reverseOctetDeltaCount') !== undefined) out.out_bytes = Number(v('reverseOctetDeltaCount'));
  for (const [ours, theirs] of [['sourceIPv4Address', 'src4_addr'], ['destinationIPv4Address', 'dst4_addr'], ['sourceIPv6Address', 'src6_addr'], ['destinationIPv6Address', 'dst6_addr']]) {
    const a = v(ours);
    if (a !== undefined) out[theirs] = theirs.includes('6') ? ipv6Bytes(a as string).toString('hex') : (a as string);
  }
  const start = v('flowStartMilliseconds');
  if (start !== undefined) out.first = new Date(start as number).toISOString().slice(0, 23);
  return out;
}

function shownFlow(f: NfdumpFlow, keys: readonly string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const k of keys) {
    const x = f[k];
    out[k] = k.endsWith('6_addr') && typeof x === 'string' ? ipv6Bytes(x).toString('hex') : (x as string | number);
  }
  return out;
}

describe('nfcapd collects the messages we send over UDP', { timeout: 30_000 }, () => {
  const dir = new TempDir();
  const { messages, written } = sampleMessages();
  // nfcapd stores flows, not options records; a template withdrawal is ignored over UDP.
  const flows = written.flat().flatMap((e) => (e.kind === 'record' && !e.template.isOptionsTemplate ? [e] : []));
  let nfcapd: Daemon | undefined;
  let stored: NfdumpFlow[] = [];
  let skip: string | false = false;

  before(async () => {
    for (const cmd of ['nfcapd', 'nfdump', 'stdbuf']) {
      if (!(await haveCommand(cmd))) { skip = `${cmd} is not installed (scripts/install-deps.sh installs it)`; return; }
    }
    const port = await freeUdpPort();
    nfcapd = await startNfcapd(dir.path, port);
    await sendDatagrams(messages, port);
    await pollUntil(`nfcapd to store ${flows.length} flows`, () => (flowsReceived(nfcapd!) >= flows.length ? true : undefined), 10_000, 50);
    await nfcapd.stop('SIGTERM');
    stored = await nfdumpFlows(dir.path);
  });

  after(async () => {
    await nfcapd?.stop('SIGKILL');
    dir.remove();
  });

  test('one flow per data record, with the 5-tuple and the forward and reverse counters we wrote', (t) => {
    if (skip) return t.skip(skip);
    assert.equal(stored.length, flows.length);
    flows.forEach((r, i) => {
      const expected = expectedFlow(r.template, r.values);
      assert.deepEqual(shownFlow(stored[i], Object.keys(expected)), expected, `record ${i} (template ${r.template.id})`);
    });
  });
});
