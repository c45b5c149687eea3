/**
 * Records for transport tests and the collector benchmark, in Antrea's agent template (42 IEs):
 * a flow given by its 5-tuple and counters, and realistic varied records (Pod, namespace, Node and
 * policy names that repeat as they do in a cluster).
 */
import type { FieldValue } from '../../../src/ipfix/index.ts';

export interface TestFlow {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  proto: number;
  packets: bigint;
  octets: bigint;
  reversePackets?: bigint;
  reverseOctets?: bigint;
}

/** Agent template values (IPv4 or IPv6 by the addresses) carrying `f` as delta and total counters. */
export function agentValuesFor(f: TestFlow, start = 1_700_000_000): FieldValue[] {
  const v6 = f.src.includes(':');
  const rp = f.reversePackets ?? 0n;
  const ro = f.reverseOctets ?? 0n;
  return [
    start, start + 30, 3, f.srcPort, f.dstPort, f.proto, f.packets, f.octets, f.packets, f.octets, f.src, f.dst,
    rp, ro, rp, ro,
    'client-6d8f9c7b5-abcde', 'default', 'node-1', 'server-0', 'default', 'node-2', 0, '',
    '', '', 0, '', 0, '', '', 0, '', 0,
    f.proto === 6 ? 'TIME_WAIT' : '', 2, '', v6 ? '::' : '0.0.0.0', '', '', '', v6 ? '::' : '0.0.0.0',
  ];
}

const NAMESPACES = ['shop', 'payments', 'monitoring', 'kube-system', 'default'];
const APPS = ['frontend', 'checkout', 'cart', 'catalog', 'prometheus', 'coredns', 'api-gateway', 'recommendation'];

/**
 * A realistic, varied agent record (IPv4); `i` selects the flow. Names come from a cluster of
 * `pods` Pods (default 400) on 12 Nodes, so they repeat across flows as they do in practice.
 */
export function realisticAgentValues(i: number, pods = 400): FieldValue[] {
  const pod = i % pods;
  const app = APPS[pod % APPS.length];
  const peer = APPS[(pod * 7 + 3) % APPS.length];
  const ns = NAMESPACES[pod % NAMESPACES.length];
  const peerNs = NAMESPACES[(pod * 3 + 1) % NAMESPACES.length];
  const hash = ((pod * 2654435761) >>> 0).toString(36).padStart(7, '0').slice(-5);
  const packets = BigInt(10 + (i % 1000));
  const octets = packets * 1380n + BigInt(i % 977);
  const policy = i % 3 === 0;
  return [
    1_700_000_000 + (i % 3600), 1_700_000_060 + (i % 3600), 1 + (i % 3), 32768 + (i % 28000), [80, 443, 8080, 5432, 53][i % 5],
    i % 5 === 4 ? 17 : 6, packets * 4n, octets * 4n, packets, octets,
    `10.244.${i % 16}.${2 + (i % 250)}`, `10.244.${(i + 5) % 16}.${2 + ((i * 13) % 250)}`,
    packets * 3n, octets / 2n, packets, octets / 8n,
    `${app}-7d9f8c6b5-${hash}`, ns, `worker-node-${i % 12}`,
    `${peer}-5c4b7d8f9-${hash.split('').reverse().join('')}`, peerNs, `worker-node-${(i + 4) % 12}`,
    i % 4 === 0 ? 8080 : 0, i % 4 === 0 ? `${peerNs}/${peer}:http` : '',
    policy ? `allow-${app}-to-${peer}` : '', policy ? peerNs : '', policy ? 1 : 0, policy ? 'rule-0' : '', policy ? 1 : 0,
    '', '', 0, '', 0,
    i % 5 === 4 ? '' : i % 7 === 0 ? 'TIME_WAIT' : 'ESTABLISHED', 1 + (i % 3), '', '0.0.0.0', '', '', '',
    i % 4 === 0 ? `10.96.${i % 64}.${10 + (i % 200)}` : '0.0.0.0',
  ];
}
