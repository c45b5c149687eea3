import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DenyStore } from './deny-store.ts';
import { EMPTY_CONTEXT, type Connection } from './connection.ts';
import type { NflogPacket } from '../conntrack/nflog-parser.ts';
import { compileNflogPrefixFormat, DEFAULT_NFLOG_PREFIX_FORMAT } from '../config/nflog-prefix.ts';

const S = 1000;
const T0 = 1_700_000_000_000;
const compiled = compileNflogPrefixFormat(DEFAULT_NFLOG_PREFIX_FORMAT);
if (!compiled.ok) throw new Error(compiled.reason);

function packet(over: Partial<NflogPacket> = {}): NflogPacket {
  return {
    group: 100, prefix: 'fv:Ingress:Reject:shop/deny-db:rule1', family: 'ipv4', src: '10.244.1.10', dst: '10.244.2.10', protocol: 6,
    srcPort: 40000, dstPort: 5432, icmpType: 0, icmpCode: 0, ipLength: 60, timestamp: 0n, kernelTimestamp: false,
    indev: 0, outdev: 0, hook: 2, hwProtocol: 0x800, mark: 0, ...over,
  };
}

const store = (dstLocal = true): DenyStore => new DenyStore({
  activeTimeoutMs: 5 * S, idleTimeoutMs: 15 * S, staleTimeoutMs: 300 * S, prefix: compiled.compiled,
  resolveContext: () => ({ ...EMPTY_CONTEXT, sourcePodName: dstLocal ? '' : 'client', destinationPodName: dstLocal ? 'db' : '', flowType: 2 }),
});

function pop(s: DenyStore, t: number): Connection[] {
  const out: Connection[] = [];
  s.popExpired(T0 + t, 100, out);
  return out;
}

test('dropped packets become one deny connection per 5-tuple with the policy of the log prefix', () => {
  const s = store();
  s.add(packet(), T0);
  s.add(packet({ ipLength: 52 }), T0 + 1 * S);
  assert.equal(s.size, 1);
  const [c] = pop(s, 5 * S);
  assert.equal(c.flowEndReason, 3);
  assert.equal(c.packetTotalCount, 2n);
  assert.equal(c.octetTotalCount, 112n);
  assert.equal(c.packetDeltaCount, 2n);
  assert.equal(c.flowStartSeconds, 1_700_000_000);
  assert.equal(c.flowEndSeconds, 1_700_000_001);
  assert.equal(c.context.ingressNetworkPolicyName, 'deny-db');
  assert.equal(c.context.ingressNetworkPolicyNamespace, 'shop');
  assert.equal(c.context.ingressNetworkPolicyRuleName, 'rule1');
  assert.equal(c.context.ingressNetworkPolicyRuleAction, 3);
  assert.equal(c.context.ingressNetworkPolicyType, 1);
  assert.equal(c.context.egressNetworkPolicyRuleAction, 0);
});

test('egress drops and prefixes that do not follow the format', () => {
  const s = store(false);
  s.add(packet({ prefix: 'fv:Egress:Drop:shop/no-db:r0' }), T0);
  s.add(packet({ srcPort: 40001, prefix: 'something else' }), T0);
  const out = pop(s, 5 * S);
  const egress = out.find((c) => c.sourceTransportPort === 40000)!;
  assert.equal(egress.context.egressNetworkPolicyName, 'no-db');
  assert.equal(egress.context.egressNetworkPolicyRuleAction, 2);
  const unknown = out.find((c) => c.sourceTransportPort === 40001)!;
  assert.equal(unknown.context.egressNetworkPolicyRuleAction, 2, 'a Drop, attributed to the local source Pod');
  assert.equal(unknown.context.egressNetworkPolicyName, '');
  assert.equal(s.stats.unmatchedPrefix, 1);
});

test('no re-export without new packets; new packets are exported as deltas; idle connections are swept', () => {
  const s = store();
  s.add(packet(), T0);
  assert.equal(pop(s, 5 * S).length, 1);
  assert.equal(pop(s, 10 * S).length, 0, 'nothing new: not exported again');
  assert.equal(s.stats.skippedUnchanged, 1);
  s.add(packet(), T0 + 11 * S);
  const [again] = pop(s, 16 * S);
  assert.equal(again.packetDeltaCount, 1n);
  assert.equal(again.packetTotalCount, 2n);
  pop(s, 40 * S);
  assert.equal(s.sweep(T0 + 400 * S), 1);
  assert.equal(s.size, 0);
});

test('connections without a local Pod are not tracked', () => {
  const s = new DenyStore({ activeTimeoutMs: 5 * S, idleTimeoutMs: 15 * S, staleTimeoutMs: 300 * S, resolveContext: () => null });
  s.add(packet(), T0);
  assert.equal(s.size, 0);
  assert.equal(s.stats.skippedNoLocalPod, 1);
});
