/**
 * Interop: our exporting process (UDP, Antrea agent templates) → nfacctd (pmacct 1.7), whose print
 * plugin writes one JSON object per flow: they show exactly the 5-tuples and counters we sent.
 * nfacctd ignores SIGTERM while plugins run, so it is stopped with SIGKILL (core and plugins).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { agentTemplate } from '../../src/ipfix/index.ts';
import { ExportingProcess } from '../../src/transport/index.ts';
import { within } from '../../src/transport/testing/peers.ts';
import { agentValuesFor, type TestFlow } from './helpers-transport/flows.ts';
import { stopWithChildren } from './helpers-transport/processes.ts';
import { freeUdpPort } from './peers/nfdump.ts';
import { Daemon, haveCommand, pollUntil } from './peers/process.ts';
import { TempDir } from './peers/tempdir.ts';

const available = await haveCommand('nfacctd');

interface NfacctdFlow { ip_src: string; ip_dst: string; port_src: number; port_dst: number; ip_proto: string; packets: number; bytes: number }

const PROTO: Record<number, string> = { 6: 'tcp', 17: 'udp' };
const key = (src: string, dst: string, sp: number, dp: number, proto: string): string => `${src} ${sp} > ${dst} ${dp} /${proto}`;

/** Sums packets and bytes per 5-tuple over every line the print plugin wrote so far. */
function readFlows(file: string): Map<string, [number, number]> {
  const sums = new Map<string, [number, number]>();
  if (!existsSync(file)) return sums;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const f = JSON.parse(line) as NfacctdFlow;
    const k = key(f.ip_src, f.ip_dst, f.port_src, f.port_dst, f.ip_proto);
    const s = sums.get(k) ?? [0, 0];
    sums.set(k, [s[0] + f.packets, s[1] + f.bytes]);
  }
  return sums;
}

describe('our exporting process → nfacctd', { skip: available ? false : 'nfacctd not installed' }, () => {
  let dir: TempDir;
  before(() => { dir = new TempDir('fvt-nfacctd-'); });
  after(() => dir?.remove());

  it('nfacctd prints the 5-tuples and counters we sent', async () => {
    const port = await freeUdpPort();
    const out = dir.file('flows.json');
    writeFileSync(dir.file('nfacctd.conf'), [
      'daemonize: false',
      'nfacctd_ip: 127.0.0.1',
      `nfacctd_port: ${port}`,
      'plugins: print[out]',
      'aggregate[out]: src_host, dst_host, src_port, dst_port, proto',
      'print_output[out]: json',
      'print_refresh_time[out]: 1',
      `print_output_file[out]: ${out}`,
      'print_output_file_append[out]: true',
      '',
    ].join('\n'));
    const nfacctd = await Daemon.start('nfacctd', ['-f', dir.file('nfacctd.conf')], { ready: /waiting for NetFlow\/IPFIX data[\s\S]*Purging cache - END/ });
    const t4 = agentTemplate(4);
    const t6 = agentTemplate(6);
    const ex = new ExportingProcess({ host: '127.0.0.1', port, transport: 'udp', observationDomainId: 99, templates: [t4, t6], mtu: 1500 });
    try {
      ex.start();
      await within(once(ex, 'connect'), 5000, 'connect');
      const sent: TestFlow[] = [];
      for (let i = 0; i < 30; i++) {
        sent.push({ src: `192.168.${i % 3}.${i + 1}`, dst: '10.96.0.10', srcPort: 33000 + i, dstPort: i % 2 ? 53 : 443, proto: i % 2 ? 17 : 6, packets: BigInt(i + 1), octets: i === 7 ? 5_000_000_000n : BigInt(100 * (i + 1)) });
      }
      sent.push({ src: 'fd00::10', dst: 'fd00::20', srcPort: 1234, dstPort: 80, proto: 6, packets: 4n, octets: 400n });
      for (const f of sent) ex.addRecord(f.src.includes(':') ? t6 : t4, agentValuesFor(f));
      await ex.close();
      const expected = new Map(sent.map((f) => [key(f.src, f.dst, f.srcPort, f.dstPort, PROTO[f.proto]), [Number(f.packets), Number(f.octets)] as [number, number]]));
      const got = await pollUntil('nfacctd to print every flow', () => {
        const seen = readFlows(out);
        return seen.size >= expected.size ? seen : undefined;
      }, 15_000, 200).catch((e: Error) => { throw new Error(`${e.message}\nprinted: ${JSON.stringify([...readFlows(out)])}\n${nfacctd.log}`); });
      assert.deepEqual(got, expected);
    } finally {
      await ex.close();
      await stopWithChildren(nfacctd, 'nfacctd');
    }
  });
});
