/**
 * Interop: our exporting process (UDP, Antrea agent templates for IPv4 and IPv6, MTU-sized
 * messages) → nfcapd (nfdump 1.7). nfdump lists exactly the 5-tuples and counters we sent,
 * 64-bit counters included. nfcapd repeats every datagram it reads to a socket of ours (-R), which
 * tells the test when nfcapd has read the last one before it is stopped.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { agentTemplate } from '../../src/ipfix/index.ts';
import { ExportingProcess } from '../../src/transport/index.ts';
import { within } from '../../src/transport/testing/peers.ts';
import { agentValuesFor, type TestFlow } from './helpers-transport/flows.ts';
import { freeUdpPort, nfdumpFlows } from './peers/nfdump.ts';
import { Daemon, haveCommand, pollUntil } from './peers/process.ts';
import { TempDir } from './peers/tempdir.ts';

const available = await haveCommand('nfcapd') && await haveCommand('nfdump');

function flows(): TestFlow[] {
  const out: TestFlow[] = [];
  for (let i = 0; i < 40; i++) {
    out.push({
      src: `10.244.${i % 4}.${10 + i}`, dst: `10.96.0.${1 + (i % 7)}`, srcPort: 40000 + i, dstPort: [80, 443, 53][i % 3],
      proto: i % 3 === 2 ? 17 : 6, packets: BigInt(10 + i), octets: i === 0 ? 6_000_000_000n : BigInt(1500 * (10 + i)),
    });
  }
  for (let i = 0; i < 10; i++) {
    out.push({ src: `fd00:10:244::${(i + 1).toString(16)}`, dst: 'fd00:10:96::a', srcPort: 50000 + i, dstPort: 8080, proto: 6, packets: BigInt(3 + i), octets: BigInt(300 + i) });
  }
  return out;
}

const key = (src: string, dst: string, sp: number, dp: number, proto: number): string => `${src} ${sp} > ${dst} ${dp} /${proto}`;

describe('our exporting process → nfcapd', { skip: available ? false : 'nfcapd/nfdump not installed' }, () => {
  let dir: TempDir;
  let repeats: dgram.Socket;
  let repeated = 0;
  before(async () => {
    dir = new TempDir('fvt-nfcapd-');
    repeats = dgram.createSocket('udp4');
    repeats.on('message', () => { repeated++; });
    await new Promise<void>((resolve) => repeats.bind(0, '127.0.0.1', () => resolve()));
  });
  after(() => {
    repeats?.close();
    dir?.remove();
  });

  it('nfdump shows the 5-tuples and counters we sent', async () => {
    const port = await freeUdpPort();
    const nfcapd = await Daemon.start('nfcapd', [
      '-b', '127.0.0.1', '-p', String(port), '-w', dir.path, '-t', '3600', '-R', `127.0.0.1/${repeats.address().port}`,
    ], { ready: /Startup nfcapd/ });
    const t4 = agentTemplate(4);
    const t6 = agentTemplate(6);
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'udp', observationDomainId: 4711, templates: [t4, t6], mtu: 1500 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      const sent = flows();
      for (const f of sent) ex.addRecord(f.src.includes(':') ? t6 : t4, agentValuesFor(f));
      await ex.close();
      assert.ok(ex.stats.messagesSent > 5, 'several MTU-sized messages');
      await pollUntil('nfcapd to read every datagram', () => (repeated >= ex.stats.messagesSent ? true : undefined), 10_000, 10);
      await nfcapd.stop('SIGTERM', 5000);
      assert.match(nfcapd.log, /Flows: 50,/);

      const got = await nfdumpFlows(dir.path);
      const expected = new Map(sent.map((f) => [key(f.src, f.dst, f.srcPort, f.dstPort, f.proto), [Number(f.packets), Number(f.octets)]]));
      const seen = new Map(got.map((g) => [
        key(g.src4_addr ?? g.src6_addr ?? '?', g.dst4_addr ?? g.dst6_addr ?? '?', g.src_port, g.dst_port, g.proto),
        [g.in_packets, g.in_bytes],
      ]));
      assert.deepEqual(seen, expected);
    } finally {
      await ex.close();
      await nfcapd.stop('SIGKILL');
    }
  });
});
