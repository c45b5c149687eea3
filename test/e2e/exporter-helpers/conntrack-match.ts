/**
 * Finding a flow record's conntrack entry in a node namespace with conntrack-tools
 * (`conntrack -L -o extended`), the independent reference for counters.
 *
 * A record's 5-tuple has the destination after DNAT, i.e. the reply tuple's source: the entry
 * matches when original src/sport equal the record's source and reply src/sport its destination.
 */
import { listConntrackExtended, type ExtendedConntrackLine } from '../netns/conntrack-tools.ts';
import type { FiveTuple } from './flow-records.ts';

/** Canonical text of an IP address (IPv6 compressed and lower case). */
export function canonicalIP(ip: string): string {
  if (!ip.includes(':')) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

export interface ConntrackCounters {
  packets: bigint;
  bytes: bigint;
  replyPackets: bigint;
  replyBytes: bigint;
  state: string;
  line: ExtendedConntrackLine;
}

export function matchesTuple(line: ExtendedConntrackLine, t: FiveTuple): boolean {
  return line.protocol === t.protocolIdentifier &&
    canonicalIP(line.original.src ?? '') === canonicalIP(t.sourceIP) &&
    Number(line.original.sport) === t.sourceTransportPort &&
    canonicalIP(line.reply.src ?? '') === canonicalIP(t.destinationIP) &&
    Number(line.reply.sport) === t.destinationTransportPort;
}

/** The entry of `t` in namespace `ns` with its counters, or undefined. */
export async function conntrackEntryFor(ns: string, t: FiveTuple): Promise<ConntrackCounters | undefined> {
  const family = t.sourceIP.includes(':') ? 'ipv6' : 'ipv4';
  const line = (await listConntrackExtended(ns, family)).find((l) => matchesTuple(l, t));
  if (line === undefined) return undefined;
  const need = (v: string | undefined, what: string): bigint => {
    if (v === undefined) throw new Error(`conntrack entry without ${what} (is nf_conntrack_acct on?): ${line.raw}`);
    return BigInt(v);
  };
  return {
    packets: need(line.original.packets, 'packets'),
    bytes: need(line.original.bytes, 'bytes'),
    replyPackets: need(line.reply.packets, 'reply packets'),
    replyBytes: need(line.reply.bytes, 'reply bytes'),
    state: line.state,
    line,
  };
}
