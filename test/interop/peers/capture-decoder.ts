/**
 * Our decoder over a capture: one SessionDecoder per UDP exporter (source address and port), as a
 * collecting process keeps one transport session per exporter, fed the datagrams in capture order.
 */
import { SessionDecoder, type DecodedMessage } from '../../../src/ipfix/index.ts';
import type { UdpDatagram } from './pcap.ts';

export function decodeDatagrams(datagrams: readonly UdpDatagram[]): DecodedMessage[] {
  const sessions = new Map<string, SessionDecoder>();
  return datagrams.map((d) => {
    const key = `${d.srcAddress}|${d.srcPort}`;
    let s = sessions.get(key);
    if (!s) sessions.set(key, (s = new SessionDecoder({ transport: 'udp' })));
    return s.decodeMessage(d.payload);
  });
}
