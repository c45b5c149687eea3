/**
 * Interop: tshark decodes the TCP stream of our exporting process. tcpdump records the connection
 * on loopback; tshark (cflow dissector on that port, TCP reassembly) must find every message
 * (including 64 KiB messages spanning several segments) with our headers, and every record with the
 * 5-tuple and counters we sent, without malformed packets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { agentTemplate } from '../../src/ipfix/index.ts';
import { ExportingProcess } from '../../src/transport/index.ts';
import { TcpSink, until, within } from '../../src/transport/testing/peers.ts';
import { agentValuesFor, type TestFlow } from './helpers-transport/flows.ts';
import { Daemon, haveCommand, pollUntil, run } from './peers/process.ts';
import { TempDir } from './peers/tempdir.ts';

const available = await haveCommand('tshark') && await haveCommand('tcpdump');

const FIELDS = ['frame.number', 'cflow.od_id', 'cflow.sequence', 'cflow.srcaddr', 'cflow.dstaddr', 'cflow.srcport', 'cflow.dstport', 'cflow.protocol', 'cflow.packets', 'cflow.octets', '_ws.malformed'];

describe('our exporting process over TCP → tshark', { skip: available ? false : 'tshark/tcpdump not installed' }, () => {
  let dir: TempDir;
  before(() => { dir = new TempDir('fvt-tshark-'); });
  after(() => dir?.remove());

  it('tshark decodes every message and record of the stream', async () => {
    const sink = await TcpSink.listen();
    const port = sink.port;
    const pcap = dir.file('tcp.pcap');
    // --immediate-mode: packets reach the file as they come, so none is left in a buffer at SIGINT.
    const capture = await Daemon.start('tcpdump', ['-i', 'lo', '-n', '-U', '--immediate-mode', '-B', '65536', '-s', '0', '-Z', 'root', '-w', pcap, 'tcp', 'port', String(port)], { ready: /listening on/ });
    const t4 = agentTemplate(4);
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'tcp', observationDomainId: 31337, templates: [t4] });
    const sent: TestFlow[] = [];
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      for (let i = 0; i < 1200; i++) {
        sent.push({ src: `10.${i >> 8}.${i & 255}.1`, dst: '10.96.0.1', srcPort: 10000 + i, dstPort: 443, proto: 6, packets: BigInt(i + 1), octets: 3_000_000_000n + BigInt(i) });
      }
      for (const f of sent) ex.addRecord(t4, agentValuesFor(f));
      await ex.close();
      await until(() => sink.recordCount === sent.length, 5000, 'sink received everything');
      await pollUntil('the capture to hold every octet sent', () => (statSync(pcap).size > ex.stats.bytesSent ? true : undefined), 10_000, 20);
    } finally {
      await ex.close();
      await sink.close();
      await capture.stop('SIGINT');
    }

    const r = await run('tshark', ['-r', pcap, '-n', '-d', `tcp.port==${port},cflow`, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f])], { timeoutMs: 60_000 });
    const rows = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
    const col = (row: string[], name: string): string[] => {
      const v = row[FIELDS.indexOf(name)] ?? '';
      return v === '' ? [] : v.split(',');
    };
    const messages = rows.filter((row) => col(row, 'cflow.od_id').length > 0);
    assert.deepEqual(rows.filter((row) => col(row, '_ws.malformed').length > 0), [], 'no malformed frames');
    const domains = messages.flatMap((row) => col(row, 'cflow.od_id'));
    assert.equal(domains.length, ex.stats.messagesSent, 'every message found');
    assert.ok(domains.every((d) => d === '31337'));
    assert.ok(ex.stats.messagesSent >= 5, 'several 64 KiB messages');

    const src = messages.flatMap((row) => col(row, 'cflow.srcaddr'));
    const dst = messages.flatMap((row) => col(row, 'cflow.dstaddr'));
    const sport = messages.flatMap((row) => col(row, 'cflow.srcport'));
    const dport = messages.flatMap((row) => col(row, 'cflow.dstport'));
    const proto = messages.flatMap((row) => col(row, 'cflow.protocol'));
    // cflow.packets / cflow.octets hold the forward then the reverse delta count of each record.
    const packets = messages.flatMap((row) => col(row, 'cflow.packets')).filter((_, i) => i % 2 === 0);
    const octets = messages.flatMap((row) => col(row, 'cflow.octets')).filter((_, i) => i % 2 === 0);
    const decoded = src.map((s, i) => `${s}:${sport[i]}>${dst[i]}:${dport[i]}/${proto[i]} ${packets[i]} ${octets[i]}`);
    assert.deepEqual(decoded, sent.map((f) => `${f.src}:${f.srcPort}>${f.dst}:${f.dstPort}/${f.proto} ${f.packets} ${f.octets}`));

    // Sequence numbers: records sent before each message.
    const seqs = messages.flatMap((row) => col(row, 'cflow.sequence')).map(Number);
    assert.equal(seqs[0], 0);
    assert.equal(seqs[seqs.length - 1] <= sent.length, true);
    assert.deepEqual([...seqs].sort((a, b) => a - b), seqs, 'non-decreasing');
  });
});
