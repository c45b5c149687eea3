import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionStore } from './connection-store.ts';
import { EMPTY_CONTEXT, type Connection, type NewConnection } from './connection.ts';
import { ObjectEntryView } from '../conntrack/object-view.ts';
import { emptyTuple, type ConntrackEntry } from '../conntrack/entry.ts';
import { IPS } from '../conntrack/constants.ts';

const S = 1000;
const podA = { ...EMPTY_CONTEXT, sourcePodName: 'a', sourcePodNamespace: 'ns', sourceNodeName: 'n1', flowType: 2 };

function entry(over: Partial<ConntrackEntry> & { sport?: number; dst?: string; clusterIP?: string; tcp?: ConntrackEntry['tcpState'] } = {}): ConntrackEntry {
  const dst = over.dst ?? '10.244.2.10';
  const orig = { ...emptyTuple(), src: '10.244.1.10', dst: over.clusterIP ?? dst, protocol: 6, srcPort: over.sport ?? 40000, dstPort: over.clusterIP ? 80 : 8080 };
  const reply = { ...emptyTuple(), src: dst, dst: '10.244.1.10', protocol: 6, srcPort: 8080, dstPort: over.sport ?? 40000 };
  return {
    family: 'ipv4', original: orig, reply, origPackets: 10n, origBytes: 1000n, replyPackets: 8n, replyBytes: 800n,
    startTime: 1_700_000_000_000_000_000n, stopTime: 0n, tcpState: over.tcp ?? 'ESTABLISHED', status: IPS.CONFIRMED, mark: 0,
    labels: null, zone: 0, id: 1, timeout: 100, ...over,
  };
}

function store(resolve: (c: NewConnection) => typeof podA | null = () => podA): ConnectionStore {
  return new ConnectionStore({ activeTimeoutMs: 5 * S, idleTimeoutMs: 15 * S, staleTimeoutMs: 300 * S, resolveContext: resolve, initialCapacity: 4 });
}

/** Test times are offsets from T0, the conntrack start time of the test entries. */
const T0 = 1_700_000_000_000;

function poll(s: ConnectionStore, now: number, entries: ConntrackEntry[]): void {
  s.beginPoll(T0 + now);
  for (const e of entries) s.upsert(new ObjectEntryView(e), T0 + now);
}

function expired(s: ConnectionStore, now: number): Connection[] {
  const out: Connection[] = [];
  s.popExpired(T0 + now, 1000, out);
  return out;
}

test('key uses the reply source as destination and keeps the Service ClusterIP', () => {
  let seen: NewConnection | undefined;
  const s = store((c) => { seen = c; return podA; });
  poll(s, 0, [entry({ clusterIP: '10.96.0.10' })]);
  assert.equal(seen?.destinationIP, '10.244.2.10');
  assert.equal(seen?.originalDestinationIP, '10.96.0.10');
  assert.equal(seen?.originalDestinationPort, 80);
  assert.equal(seen?.startSeconds, 1_700_000_000);
  const [c] = expired(s, 5 * S);
  assert.equal(c.destinationIP, '10.244.2.10');
  assert.equal(c.destinationTransportPort, 8080);
  assert.equal(c.destinationClusterIP, '10.96.0.10');
  assert.equal(c.context, podA);
});

test('active timeout exports deltas since the last export; first delta = total', () => {
  const s = store();
  poll(s, 0, [entry()]);
  assert.deepEqual(expired(s, 4999), []);
  const [first] = expired(s, 5 * S);
  assert.equal(first.flowEndReason, 2);
  assert.equal(first.octetTotalCount, 1000n);
  assert.equal(first.octetDeltaCount, 1000n);
  assert.equal(first.reversePacketDeltaCount, 8n);
  assert.equal(first.flowStartSeconds, 1_700_000_000);
  poll(s, 6 * S, [entry({ origBytes: 1500n, origPackets: 15n })]);
  const [second] = expired(s, 10 * S);
  assert.equal(second.flowEndReason, 2);
  assert.equal(second.octetDeltaCount, 500n);
  assert.equal(second.packetDeltaCount, 5n);
  assert.equal(second.reverseOctetDeltaCount, 0n);
  assert.equal(second.flowEndSeconds, 1_700_000_006);
});

test('counters going backwards give a delta of 0, not a wrapped value', () => {
  const s = store();
  poll(s, 0, [entry()]);
  expired(s, 5 * S);
  poll(s, 6 * S, [entry({ origBytes: 10n, origPackets: 1n, replyPackets: 9n })]);
  const [c] = expired(s, 10 * S);
  assert.equal(c.octetDeltaCount, 0n);
  assert.equal(c.packetDeltaCount, 0n);
});

test('idle connections are exported with flowEndReason 1 and leave the queue until active again', () => {
  const s = store();
  poll(s, 0, [entry()]);
  expired(s, 5 * S);
  for (let t = 6; t <= 20; t++) poll(s, t * S, [entry()]);
  const out = expired(s, 20 * S);
  assert.equal(out.length, 1);
  assert.equal(out[0].flowEndReason, 1);
  assert.equal(s.nextExpiry(), Infinity);
  assert.equal(out[0].flowEndSeconds, 1_700_000_020);
  poll(s, 21 * S, [entry({ origBytes: 2000n, origPackets: 20n })]);
  const [again] = expired(s, 26 * S);
  assert.equal(again.flowEndReason, 2);
  assert.equal(again.octetDeltaCount, 1000n, 'bytes since the idle export, counted once');
});

test('TIME_WAIT ends the flow: flowEndReason 3, frozen, then deleted at the next poll', () => {
  const s = store();
  poll(s, 0, [entry()]);
  poll(s, 1 * S, [entry({ tcp: 'TIME_WAIT', origBytes: 1100n, origPackets: 11n })]);
  const [c] = expired(s, 5 * S);
  assert.equal(c.flowEndReason, 3);
  assert.equal(c.tcpState, 'TIME_WAIT');
  assert.equal(c.octetTotalCount, 1100n);
  poll(s, 6 * S, [entry({ tcp: 'CLOSE', origBytes: 1200n })]);
  assert.equal(s.size, 1, 'still present in conntrack');
  poll(s, 7 * S, []);
  assert.equal(s.size, 1, 'absent once: marked');
  poll(s, 8 * S, []);
  assert.equal(s.size, 0, 'ready to delete and absent: deleted');
});

test('a connection that disappears from conntrack is exported as ended', () => {
  const s = store();
  poll(s, 0, [entry({ sport: 1 }), entry({ sport: 2 })]);
  expired(s, 5 * S);
  poll(s, 6 * S, [entry({ sport: 1, origBytes: 5000n, origPackets: 50n })]);
  const out = expired(s, 10 * S);
  const gone = out.find((c) => c.sourceTransportPort === 2);
  assert.equal(gone?.flowEndReason, 3);
  assert.equal(out.find((c) => c.sourceTransportPort === 1)?.flowEndReason, 2);
});

test('UDP entries use the kernel dying bit; stale absent connections are deleted', () => {
  const s = store();
  const udp = (over: Partial<ConntrackEntry> = {}): ConntrackEntry => {
    const e = entry({ tcp: '' });
    return { ...e, original: { ...e.original, protocol: 17 }, reply: { ...e.reply, protocol: 17 }, ...over };
  };
  poll(s, 0, [udp()]);
  poll(s, 1 * S, [udp({ status: IPS.CONFIRMED | IPS.DYING, stopTime: 1_700_000_003_000_000_000n })]);
  const [c] = expired(s, 5 * S);
  assert.equal(c.flowEndReason, 3);
  assert.equal(c.tcpState, '');
  assert.equal(c.flowEndSeconds, 1_700_000_003);
  const s2 = store();
  poll(s2, 0, [udp()]);
  for (let t = 1; t < 400; t += 50) poll(s2, t * S, []);
  assert.equal(s2.size, 0);
});

test('connections without a local Pod are not tracked; the store bound is enforced', () => {
  const s = store(() => null);
  poll(s, 0, [entry()]);
  assert.equal(s.size, 0);
  assert.equal(s.stats.skippedNoLocalPod, 1);
  const small = new ConnectionStore({ activeTimeoutMs: 5 * S, idleTimeoutMs: 15 * S, staleTimeoutMs: 300 * S, resolveContext: () => podA, maxConnections: 2 });
  poll(small, 0, [entry({ sport: 1 }), entry({ sport: 2 }), entry({ sport: 3 })]);
  assert.equal(small.size, 2);
  assert.equal(small.stats.droppedFull, 1);
});

test('thousands of connections: growth, deletion and slot reuse keep every key distinct', () => {
  const s = store();
  const many = (from: number, to: number): ConntrackEntry[] => Array.from({ length: to - from }, (_, i) => entry({ sport: from + i }));
  poll(s, 0, many(1, 5001));
  assert.equal(s.size, 5000);
  poll(s, 1 * S, many(2501, 7501));
  poll(s, 400 * S, many(2501, 7501));
  assert.equal(s.size, 5000);
  const ports = new Set<number>();
  s.forEach((c) => ports.add(c.sourceTransportPort));
  assert.equal(ports.size, 5000);
  assert.ok([...ports].every((p) => p > 2500 && p <= 7500));
});

test('IPv6 connections', () => {
  const s = store();
  const e = entry();
  poll(s, 0, [{ ...e, family: 'ipv6', original: { ...e.original, src: 'fd00:10:244:1::a', dst: 'fd00:10:96::10' }, reply: { ...e.reply, src: 'fd00:10:244:2::a', dst: 'fd00:10:244:1::a' } }]);
  const [c] = expired(s, 5 * S);
  assert.equal(c.family, 6);
  assert.equal(c.sourceIP, 'fd00:10:244:1::a');
  assert.equal(c.destinationIP, 'fd00:10:244:2::a');
  assert.equal(c.destinationClusterIP, 'fd00:10:96::10');
});
