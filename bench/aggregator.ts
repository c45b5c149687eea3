/**
 * Flow Aggregator benchmark, end to end over mutual TLS, on one core.
 *
 * 1. Throughput: the AggregatorService (TLS collecting process → preprocess → correlate →
 *    aggregate → expiry → sink set) runs in this process, on Node's main thread, with a PKI from
 *    generatePki() (server certificate; exporters present the client certificate; mutual TLS as in
 *    production). It is fed by 2, 16 and 64 exporters, each an ExportingProcess over TLS standing
 *    for one Node ("worker-node-N"), in child processes (2 exporters: one process; 16 and 64: two
 *    processes with half each). They send Antrea agent records (42 IEs, IPv4; value arrays built
 *    in the exporter processes, encoded by their ExportingProcess) as fast as the aggregator takes
 *    them (TCP backpressure): intra-Node
 *    connections and inter-Node ones, whose source-Node record comes from the client's Node and
 *    whose destination-Node record from the server's Node, so they correlate. Every connection is
 *    reported three times by each Node that sees it (the last time with flowEndReason 3).
 *    activeFlowRecordTimeout 1 s and inactiveFlowRecordTimeout 2 s keep the store at a steady
 *    size; each connection is exported about twice (when it correlates, then with its later
 *    updates): ~0.4 exported flows per received record, a heavy export load.
 *    After a warm-up, over a window: records/s received and aggregated, flows/s handed to the
 *    sinks, the CPU the aggregator used (process, and main thread alone) and the children's CPU.
 *    Two sink configurations, reported separately:
 *      (a) "null-sink": one sink that only counts → collect, correlate, aggregate, expire, export;
 *      (b) "ipfix-sink": the IPFIX sink sending the 69-IE aggregator records over TLS to a
 *          collector in a child process (which frames the stream, counts octets and decodes a
 *          sample of the messages) → collect, correlate, aggregate, expire, encode and send.
 * 2. The IPFIX sink alone: flows/s from one expiry pass of 30k fresh correlated flows to messages
 *    handed to the TLS socket of a collector process.
 * 3. Memory: bytes per flow (V8 heap + typed-array backing stores, after full GCs) with 100k and
 *    1M flows in the store, measured through the service: exporters send the first records of
 *    that many connections over TLS and the service holds them (timeouts long enough that none
 *    expires), each exported once as a live aggregator does.
 *
 *   tsx bench/aggregator.ts                  (npm run bench runs it with --expose-gc)
 *   AGG_BENCH_WINDOW_S=2 ...                 shorter measuring windows (default 4 s)
 *   AGG_BENCH_PARTS=throughput,sink,memory   the parts to run
 *   AGG_BENCH_EXPORTERS=16 AGG_BENCH_SINKS=ipfix   one case only
 *   AGG_BENCH_CPU_PROFILE=dir                writes a CPU profile of the aggregator during each window
 * Internally the same file runs as the exporter processes (--role=exporters) and the downstream
 * collector (--role=collector).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import v8 from 'node:v8';
import { generatePki, type Pki } from '../src/aggregator/certs/index.ts';
import { A, AGENT_ELEMENT_COUNT } from '../src/aggregator/core/layout.ts';
import { AggregationProcess, type AggregatedFlow } from '../src/aggregator/core/index.ts';
import { AggregatorService } from '../src/aggregator/service/aggregator-service.ts';
import { IpfixSink } from '../src/aggregator/sinks/ipfix/index.ts';
import { SinkSet } from '../src/aggregator/sinks/sink-set.ts';
import type { Sink, SinkStats } from '../src/aggregator/sinks/sink.ts';
import { parseAggregatorConfig } from '../src/config/aggregator-config.ts';
import type { AggregatorConfig } from '../src/config/aggregator-types.ts';
import { agentElementNames, agentTemplate, fnv1_32, SessionDecoder, type FieldValue } from '../src/ipfix/index.ts';
import { ExportingProcess } from '../src/transport/index.ts';
import { nextMessage as nextChildMessage, stopChild } from './children.ts';
import { isMain, note, report } from './report.ts';

const SELF = fileURLToPath(import.meta.url);
const TARGET_RECORDS_PER_S = 200_000;
const LIMIT_BYTES_PER_FLOW = 1024;
const WARMUP_MS = 3000;
const WINDOW_MS = Number(process.env.AGG_BENCH_WINDOW_S ?? 4) * 1000;
const EXPORTER_COUNTS = (process.env.AGG_BENCH_EXPORTERS ?? '2,16,64').split(',').map(Number);
const SINK_KINDS = (process.env.AGG_BENCH_SINKS ?? 'null,ipfix').split(',') as SinkKind[];
const PARTS = (process.env.AGG_BENCH_PARTS ?? 'throughput,sink,memory').split(',');
const PROFILE_DIR = process.env.AGG_BENCH_CPU_PROFILE;
const CHILD_FLAGS = ['--max-semi-space-size=32', '--import', 'tsx'];
/** The TLS server name agents use for the aggregator's Service. */
const SERVER_NAME = 'flow-aggregator.flow-aggregator.svc';

type SinkKind = 'null' | 'ipfix';

// ------------------------------------------------------------------------------------------------
// Traffic: Antrea agent records of a cluster of exporting Nodes.
//
// Node n has PODS Pods (10.244.n.2 …). Exporters live in groups (one group per exporter process);
// every "tick" t each Node of a group starts two connections: one intra-Node (Pod to Pod on the
// Node) and one inter-Node to another Node of its group, peer(n, t), whose exporter reports the
// destination side at the same tick. A Node's records at tick t: for its intra-Node connection,
// its outgoing connection (source side) and its incoming one (destination side): update 0 of tick
// t, update 1 of tick t - LAG and update 2 (the last, flowEndReason 3) of tick t - 2·LAG. The
// Nodes of a group advance tick by tick together, so both sides of a connection leave together.

const PODS = 50;
const UPDATES = 3;
const BASE_TIME = 1_700_000_000;
const APPS = ['frontend', 'checkout', 'cart', 'catalog', 'prometheus', 'coredns', 'api-gateway', 'recommendation'];
const NAMESPACES = ['shop', 'payments', 'monitoring', 'kube-system', 'default'];
const DPORTS = [80, 443, 8080, 5432];

type Kind = 'intra' | 'src' | 'dst';

interface NodeNames { node: string; podIP: string[]; podName: string[] }

const nodeCache = new Map<number, NodeNames>();
function names(n: number): NodeNames {
  let x = nodeCache.get(n);
  if (!x) {
    x = {
      node: `worker-node-${n}`,
      podIP: Array.from({ length: PODS }, (_, p) => `10.244.${n}.${p + 2}`),
      podName: Array.from({ length: PODS }, (_, p) => `${APPS[p % APPS.length]}-7d9f8c6b5-${((n * 131 + p) * 2654435761 >>> 0).toString(36).slice(-5)}`),
    };
    nodeCache.set(n, x);
  }
  return x;
}

/**
 * Nodes first..first+size-1 form a group. The Node that Node `a`'s inter-Node connection of tick t
 * goes to, and the Node that Node `b`'s incoming connection of tick t comes from.
 */
interface Group { first: number; size: number }
const peerOf = (g: Group, a: number, t: number): number => g.first + ((a - g.first + 1 + (t % (g.size - 1))) % g.size);
const sourceOf = (g: Group, b: number, t: number): number => g.first + ((b - g.first - 1 - (t % (g.size - 1)) + 2 * g.size) % g.size);

/** One agent record (42 values in template order) of a connection from Node a to Node b (a = b for intra). */
function agentRecord(kind: Kind, a: number, b: number, t: number, update: number): FieldValue[] {
  const p = t % PODS;
  const q = (t * 7 + 3) % PODS;
  const src = names(a);
  const dst = names(b);
  const srcKnown = kind !== 'dst';
  const dstKnown = kind !== 'src';
  const start = BASE_TIME + Math.floor(t / 1000);
  const packets = 10 + (t % 90);
  const octets = packets * 1200 + (t % 977);
  const u = update + 1;
  const service = t % 4 === 0 && srcKnown;
  const policy = t % 3 === 0;
  const nsSrc = NAMESPACES[p % NAMESPACES.length];
  const nsDst = NAMESPACES[q % NAMESPACES.length];
  const v = new Array<FieldValue>(AGENT_ELEMENT_COUNT);
  v[A.flowStartSeconds] = start;
  v[A.flowEndSeconds] = start + 5 * u;
  v[A.flowEndReason] = update === UPDATES - 1 ? 3 : 2;
  v[A.sourceTransportPort] = 1024 + (Math.floor(t / PODS) % 64000);
  v[A.destinationTransportPort] = DPORTS[t & 3];
  v[A.protocolIdentifier] = 6;
  v[A.packetTotalCount] = BigInt(packets * u);
  v[A.octetTotalCount] = BigInt(octets * u);
  v[A.packetDeltaCount] = BigInt(packets);
  v[A.octetDeltaCount] = BigInt(octets);
  v[A.sourceAddress] = src.podIP[p];
  v[A.destinationAddress] = dst.podIP[q];
  v[A.reversePacketTotalCount] = BigInt(packets * u);
  v[A.reverseOctetTotalCount] = BigInt(packets * 90 * u);
  v[A.reversePacketDeltaCount] = BigInt(packets);
  v[A.reverseOctetDeltaCount] = BigInt(packets * 90);
  v[A.sourcePodName] = srcKnown ? src.podName[p] : '';
  v[A.sourcePodNamespace] = srcKnown ? nsSrc : '';
  v[A.sourceNodeName] = srcKnown ? src.node : '';
  v[A.destinationPodName] = dstKnown ? dst.podName[q] : '';
  v[A.destinationPodNamespace] = dstKnown ? nsDst : '';
  v[A.destinationNodeName] = dstKnown ? dst.node : '';
  v[A.destinationServicePort] = service ? DPORTS[t & 3] : 0;
  v[A.destinationServicePortName] = service ? `${nsDst}/${APPS[q % APPS.length]}:http` : '';
  v[A.ingressNetworkPolicyName] = policy && dstKnown ? `allow-to-${APPS[q % APPS.length]}` : '';
  v[A.ingressNetworkPolicyNamespace] = policy && dstKnown ? nsDst : '';
  v[A.ingressNetworkPolicyType] = policy && dstKnown ? 1 : 0;
  v[A.ingressNetworkPolicyRuleName] = policy && dstKnown ? 'ingress-0' : '';
  v[A.ingressNetworkPolicyRuleAction] = policy && dstKnown ? 1 : 0;
  v[A.egressNetworkPolicyName] = policy && srcKnown ? `allow-from-${APPS[p % APPS.length]}` : '';
  v[A.egressNetworkPolicyNamespace] = policy && srcKnown ? nsSrc : '';
  v[A.egressNetworkPolicyType] = policy && srcKnown ? 1 : 0;
  v[A.egressNetworkPolicyRuleName] = policy && srcKnown ? 'egress-0' : '';
  v[A.egressNetworkPolicyRuleAction] = policy && srcKnown ? 1 : 0;
  v[A.tcpState] = update === UPDATES - 1 ? 'TIME_WAIT' : 'ESTABLISHED';
  v[A.flowType] = kind === 'intra' ? 1 : 2;
  v[A.egressName] = '';
  v[A.egressIP] = '0.0.0.0';
  v[A.appProtocolName] = '';
  v[A.httpVals] = '';
  v[A.egressNodeName] = '';
  v[A.destinationClusterIP] = service ? `10.96.${q}.${(t >> 2) % 200 + 1}` : '0.0.0.0';
  return v;
}

/** Node n's records of tick t (update 0 only, or the full schedule with later updates). */
function recordsOfTick(g: Group, n: number, t: number, lag: number, withUpdates: boolean, out: FieldValue[][]): void {
  for (let u = 0; u < (withUpdates ? UPDATES : 1); u++) {
    const tt = t - u * lag;
    if (tt < 0) break;
    out.push(agentRecord('intra', n, n, tt, u), agentRecord('src', n, peerOf(g, n, tt), tt, u), agentRecord('dst', sourceOf(g, n, tt), n, tt, u));
  }
}

// ------------------------------------------------------------------------------------------------
// Role: exporter process (one group of Nodes, one ExportingProcess each).

interface ExporterSetup { cmd: 'setup'; port: number; group: Group; ca: string; cert: string; key: string }
interface ExporterCounts { added: number; sent: number; dropped: number; invalid: number }

async function exporterRole(): Promise<void> {
  const setup = await new Promise<ExporterSetup>((resolve) => process.once('message', (m) => resolve(m as ExporterSetup)));
  const template = agentTemplate(4);
  const g = setup.group;
  // Later updates of a connection follow its first record by about 4,000 records of the group.
  const lag = Math.max(10, Math.round(4000 / (9 * g.size)));
  const exporters = Array.from({ length: g.size }, (_, i) => {
    const n = g.first + i;
    return {
      n,
      ep: new ExportingProcess({
        host: '127.0.0.1', port: setup.port, transport: 'tls', observationDomainId: fnv1_32(names(n).node),
        templates: [template], tls: { ca: setup.ca, cert: setup.cert, key: setup.key, servername: SERVER_NAME },
        maxQueuedRecords: 1 << 16,
      }).start(),
    };
  });
  await Promise.all(exporters.map((e) => new Promise<void>((resolve, reject) => {
    e.ep.once('connect', () => resolve());
    e.ep.once('connectFailed', reject);
  })));
  let tick = 0;
  let added = 0;
  let running = false;
  let stopAt = Infinity;
  let withUpdates = true;
  let pumping = false;
  let onIdle: (() => void) | null = null;
  const batch: FieldValue[][] = [];
  const blocked = (): boolean => exporters.some((e) => e.ep.queueDepth > 0);
  /**
   * Adds the group's records tick by tick while every connection takes them; while one pushes back
   * (records wait in its exporting process's queue) the group waits (1 ms timers, no busy loop).
   */
  const pump = (): void => {
    for (let budget = 20; running && tick < stopAt && budget > 0 && !blocked(); budget--) {
      for (const e of exporters) {
        batch.length = 0;
        recordsOfTick(g, e.n, tick, lag, withUpdates, batch);
        for (const r of batch) e.ep.addRecord(template, r);
        added += batch.length;
      }
      tick++;
    }
    if (running && tick < stopAt) {
      if (blocked()) setTimeout(pump, 1);
      else setImmediate(pump);
      return;
    }
    pumping = false;
    for (const e of exporters) e.ep.flush();
    onIdle?.();
  };
  const counts = (): ExporterCounts => {
    let sent = 0;
    let dropped = 0;
    let invalid = 0;
    for (const e of exporters) {
      sent += e.ep.stats.recordsSent;
      dropped += e.ep.stats.recordsDropped;
      invalid += e.ep.stats.recordsInvalid;
    }
    return { added, sent, dropped, invalid };
  };
  const drained = async (): Promise<void> => {
    while (blocked()) await new Promise((r) => setTimeout(r, 5));
    for (const e of exporters) e.ep.flush();
  };
  const idle = (): Promise<void> => (pumping ? new Promise<void>((resolve) => { onIdle = resolve; }) : Promise.resolve());
  const start = (last: number, updates: boolean): Promise<void> => {
    running = true;
    stopAt = last;
    withUpdates = updates;
    pumping = true;
    const done = idle();
    pump();
    return done;
  };
  process.on('message', (msg: { cmd: string; ticks?: number }) => {
    if (msg.cmd === 'stream') {
      void start(Infinity, true);
    } else if (msg.cmd === 'fixed') {
      // The next `ticks` ticks, first records only (new connections).
      void start(tick + msg.ticks!, false).then(drained).then(() => process.send!({ done: counts() }));
    } else if (msg.cmd === 'stop') {
      running = false;
      void idle().then(drained).then(() => process.send!({ stopped: counts() }));
    } else if (msg.cmd === 'cpu') {
      process.send!({ cpu: processCpuMs() });
    } else if (msg.cmd === 'exit') {
      void Promise.all(exporters.map((e) => e.ep.close(2000))).then(() => process.exit(0));
    }
  });
  process.send!({ ready: true });
}

// ------------------------------------------------------------------------------------------------
// Role: downstream collector of the IPFIX sink (TLS). Frames the stream, counts octets and messages,
// decodes every 16th message (templates always) to check that what arrives is valid IPFIX.

interface CollectorCounts { bytes: number; messages: number; decoded: number; records: number; errors: number; cpuMs: number }

async function collectorRole(): Promise<void> {
  const pki = await new Promise<Pki>((resolve) => process.once('message', (m) => resolve((m as { pki: Pki }).pki)));
  const counts: CollectorCounts = { bytes: 0, messages: 0, decoded: 0, records: 0, errors: 0, cpuMs: 0 };
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true }, (sock) => {
    const decoder = new SessionDecoder({ transport: 'tls' });
    let pending: Buffer | null = null;
    sock.on('data', (chunk: Buffer) => {
      counts.bytes += chunk.length;
      const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      let p = 0;
      while (buf.length - p >= 4) {
        const len = buf.readUInt16BE(p + 2);
        if (len < 16) { counts.errors++; sock.destroy(); return; }
        if (buf.length - p < len) break;
        const withTemplates = len > 16 && buf.readUInt16BE(p + 16) === 2;
        if (withTemplates || counts.messages % 16 === 0) {
          const m = decoder.decodeMessage(buf.subarray(p, p + len));
          counts.decoded++;
          counts.records += m.records.length;
          counts.errors += m.errors.length;
        }
        counts.messages++;
        p += len;
      }
      pending = p < buf.length ? Buffer.from(buf.subarray(p)) : null;
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'counts') process.send!({ counts: { ...counts, cpuMs: processCpuMs() } });
    else if (msg.cmd === 'cpu') process.send!({ cpu: processCpuMs() });
    else if (msg.cmd === 'exit') process.exit(0);
  });
  process.send!({ port: (server.address() as { port: number }).port });
}

// ------------------------------------------------------------------------------------------------
// Orchestration helpers.

function child(role: string): ChildProcess {
  return fork(SELF, [`--role=${role}`], { execArgv: CHILD_FLAGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

const nextMessage = <T>(c: ChildProcess, key: string, timeoutMs = 60_000): Promise<T> => nextChildMessage<T>(c, key, timeoutMs);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function childrenCpuMs(children: ChildProcess[]): Promise<number[]> {
  return Promise.all(children.map((c) => {
    const r = nextMessage<number>(c, 'cpu');
    c.send({ cmd: 'cpu' });
    return r;
  }));
}

/** CPU ms of the main thread alone (/proc/self/task/<pid>/stat utime + stime), or null off Linux. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return null;
  }
}

function processCpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** A sink that only counts what it is offered. */
class CountingSink implements Sink {
  readonly name = 'null';
  offered = 0;
  offer(flow: AggregatedFlow): void {
    void flow;
    this.offered++;
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
  stats(): SinkStats {
    return { queued: 0, sent: this.offered, dropped: 0, failures: 0 };
  }
}

async function freeTcpPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function aggregatorConfig(activeTimeout: string, inactiveTimeout: string): Promise<AggregatorConfig> {
  return parseAggregatorConfig([
    'aggregatorTransportProtocol: TLS',
    `activeFlowRecordTimeout: ${activeTimeout}`,
    `inactiveFlowRecordTimeout: ${inactiveTimeout}`,
    `ipfixCollector: {address: 127.0.0.1, port: ${await freeTcpPort()}}`,
    'clusterID: 8b5c3f2e-1d4a-4b7e-9c2f-5a6d7e8f9012',
  ].join('\n') + '\n').config;
}

interface Harness {
  service: AggregatorService;
  exporters: ChildProcess[];
}

/** Starts the service and the exporter processes holding `nodes` exporters between them; resolves once all are connected. */
async function startHarness(pki: Pki, nodes: number, sinks: SinkSet, active: string, inactive: string): Promise<Harness> {
  const service = new AggregatorService({
    config: await aggregatorConfig(active, inactive), sinks,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireClientCert: true },
  });
  const { port } = await service.start();
  // Two exporters: one process; more: two processes with half of them each.
  const groups = nodes > 2 ? 2 : 1;
  const exporters = Array.from({ length: groups }, () => child('exporters'));
  exporters.forEach((c, k) => {
    const group = { first: k * (nodes / groups), size: nodes / groups };
    const setup: ExporterSetup = { cmd: 'setup', port, group, ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key };
    c.send(setup);
  });
  await Promise.all(exporters.map((c) => nextMessage(c, 'ready')));
  await until('every exporter connected', () => (service.collector?.stats.sessionsCurrent ?? 0) === nodes);
  return { service, exporters };
}

async function stopHarness(h: Harness): Promise<void> {
  await Promise.all(h.exporters.map((c) => stopChild(c)));
  await h.service.stop();
}

/** Starts the V8 CPU profiler of this process; the returned function stops it and writes the profile. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (file) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(PROFILE_DIR!, { recursive: true });
    writeFileSync(join(PROFILE_DIR!, file), JSON.stringify(profile));
    note(`CPU profile written to ${join(PROFILE_DIR!, file)}`);
  };
}

// ------------------------------------------------------------------------------------------------
// Part 1: throughput.

interface Sample { t: number; received: number; exported: number; sent: number; dropped: number; cpu: number; mainCpu: number | null }

function sample(h: Harness, sink: Sink): Sample {
  return {
    t: performance.now(), received: h.service.core.stats().recordsReceived, exported: h.service.core.stats().recordsExported,
    sent: sink.stats().sent, dropped: sink.stats().dropped, cpu: processCpuMs(), mainCpu: mainThreadCpuMs(),
  };
}

async function throughput(pki: Pki, nodes: number, kind: SinkKind): Promise<void> {
  let collector: ChildProcess | null = null;
  let sink: Sink;
  if (kind === 'ipfix') {
    const downstream = await ipfixSinkToCollector(pki);
    collector = downstream.collector;
    sink = downstream.sink;
    // A long-running collector: warmed up (compiled code, socket buffers) before the measurement.
    await exportPasses(downstream.sink, 20_000, 5);
  } else {
    sink = new CountingSink();
  }
  const h = await startHarness(pki, nodes, new SinkSet([sink]), '1s', '2s');
  try {
    h.exporters.forEach((c) => c.send({ cmd: 'stream' }));
    await sleep(WARMUP_MS);
    const profiler = PROFILE_DIR ? await startProfile() : null;
    const helpers = collector ? [...h.exporters, collector] : h.exporters;
    const helpersA = await childrenCpuMs(helpers);
    const a = sample(h, sink);
    await sleep(WINDOW_MS);
    const b = sample(h, sink);
    const helpersB = await childrenCpuMs(helpers);
    if (profiler) await profiler(`aggregator-${nodes}-exporters-${kind}-sink.cpuprofile`);
    const stopped = await Promise.all(h.exporters.map((c) => {
      const r = nextMessage<ExporterCounts>(c, 'stopped');
      c.send({ cmd: 'stop' });
      return r;
    }));
    const sentByExporters = stopped.reduce((s, x) => s + x.sent, 0);
    const droppedByExporters = stopped.reduce((s, x) => s + x.dropped + x.invalid, 0);
    await until('every record received', () => h.service.core.stats().recordsReceived >= sentByExporters, 30_000);
    const core = h.service.core.stats();
    await stopHarness(h);

    const seconds = (b.t - a.t) / 1000;
    const rate = (b.received - a.received) / seconds;
    const exports = (b.exported - a.exported) / seconds;
    const cores = (b.cpu - a.cpu) / 1000 / seconds;
    const mainCores = a.mainCpu !== null && b.mainCpu !== null ? (b.mainCpu - a.mainCpu) / 1000 / seconds : null;
    const perCpuSecond = mainCores ? rate / mainCores : null;
    const helperCores = helpersB.map((x, i) => ((x - helpersA[i]) / 1000 / seconds).toFixed(2));
    const sinkStats = sink.stats();
    let downstream = '';
    if (collector) {
      const ipfix = sink as IpfixSink;
      const c = await (async () => {
        let last = -1;
        for (;;) {
          collector.send({ cmd: 'counts' });
          const x = await nextMessage<CollectorCounts>(collector, 'counts');
          if (x.bytes === ipfix.exporter.stats.bytesSent || x.bytes === last) return x;
          last = x.bytes;
          await sleep(100);
        }
      })();
      downstream = `; exporting process dropped ${ipfix.exporter.stats.recordsDropped}; collector received ${c.bytes} of ${ipfix.exporter.stats.bytesSent} octets sent, ${c.messages} messages, decoded ${c.records} records from ${c.decoded} sampled messages, ${c.errors} decode errors`;
      await stopChild(collector);
    }
    const label = kind === 'null' ? 'null sink: collect→correlate→aggregate' : 'IPFIX sink over TLS: collect→correlate→aggregate→encode→send';
    note(`${nodes} exporters, ${label}: ${Math.round(rate)} records/s, ${Math.round(exports)} flows/s to the sinks; `
      + `aggregator CPU ${cores.toFixed(2)} cores (main thread ${mainCores?.toFixed(2) ?? 'n/a'}), exporter processes ${helperCores.slice(0, h.exporters.length).join(' + ')}`
      + `${collector ? `, collector process ${helperCores[h.exporters.length]}` : ''} cores; `
      + `${Math.round(perCpuSecond ?? 0)} records per main-thread CPU-second; stale ${core.recordsStale}, one-sided ${core.oneSidedFlows}, `
      + `correlated ${core.flowsCorrelated}, exporters dropped ${droppedByExporters}, sink sent ${sinkStats.sent} dropped ${sinkStats.dropped} `
      + `(${b.dropped - a.dropped} in the window)${downstream}`);
    const name = kind === 'null' ? 'null-sink' : 'ipfix-sink';
    report({
      bench: `aggregator-tls-${nodes}-exporters-${name} records/s`, value: rate, unit: 'records/s',
      baseline: `acceptance ≥ ${TARGET_RECORDS_PER_S} records/s end to end on one core over TLS (${kind === 'null'
        ? 'null sink: collect, correlate, aggregate, hand to the sink set'
        : `IPFIX sink: also encode the 69-IE records and send them over TLS to a collector process, ${b.dropped - a.dropped} flows dropped in the window`}; `
        + `${(exports / rate).toFixed(2)} flows exported per record)`,
      ratio: rate / TARGET_RECORDS_PER_S,
    });
    report({
      bench: `aggregator-tls-${nodes}-exporters-${name} records per CPU-second`, value: perCpuSecond ?? rate / cores, unit: 'records/s/core',
      baseline: `records/s divided by the aggregator's ${mainCores !== null ? 'main-thread' : 'process'} CPU use (${(mainCores ?? cores).toFixed(2)} cores; process ${cores.toFixed(2)}), vs the ${TARGET_RECORDS_PER_S} target`,
      ratio: (perCpuSecond ?? rate / cores) / TARGET_RECORDS_PER_S,
    });
  } finally {
    if (h.exporters.some((c) => c.exitCode === null)) await stopHarness(h).catch(() => {});
    if (collector) await stopChild(collector);
  }
}

// ------------------------------------------------------------------------------------------------
// Part 2: the IPFIX sink alone: flows/s from an expiry pass to the collector's socket.

/**
 * Rounds of SINK_FLOWS fresh correlated flows: the records are aggregated (not timed), then one
 * expiry pass exports them all to the IPFIX sink; timed until the sink has written every flow into
 * messages handed to the TLS socket (materialising the flows, encoding and sending them).
 */
const SINK_FLOWS = 30_000;
const SINK_ROUNDS = 8;

/**
 * Sends `rounds` expiry passes of `flows` fresh correlated flows each through the IPFIX sink;
 * returns the flows/s of each pass, timed from the expiry until the sink has written every flow
 * into messages handed to its socket (the records are aggregated beforehand, untimed).
 */
async function exportPasses(sink: IpfixSink, flows: number, rounds: number): Promise<number[]> {
  const template = agentTemplate(4);
  const header = { version: 10, length: 0, exportTime: BASE_TIME, sequenceNumber: 0, observationDomainId: 1 };
  const g: Group = { first: 0, size: 2 };
  let now = 1_000_000;
  const core = new AggregationProcess({ sink: sink.offer.bind(sink), now: () => now, initialCapacity: flows });
  const rates: number[] = [];
  let tick = 0;
  for (let round = 0; round < rounds; round++) {
    const batch: FieldValue[][] = [];
    while (batch.length < flows * 2) {
      // Inter-Node connections: each flow is two records that correlate.
      const t = tick++;
      const peer = peerOf(g, 0, t);
      batch.push(agentRecord('src', 0, peer, t, 0), agentRecord('dst', 0, peer, t, 0));
    }
    for (const values of batch) core.ingest({ template, values, header });
    const target = sink.exporter.stats.recordsSent + sink.stats().dropped + flows;
    const t0 = performance.now();
    const exported = core.expire(now);
    await sink.flush();
    while (sink.exporter.stats.recordsSent + sink.stats().dropped < target) await new Promise((r) => setImmediate(r));
    const seconds = (performance.now() - t0) / 1000;
    if (exported !== flows) throw new Error(`expected ${flows} exports, got ${exported}`);
    rates.push(flows / seconds);
    now += 10_000_000; // past every timeout: the next expiry deletes this round's flows
    core.expire(now);
  }
  return rates;
}

async function ipfixSinkAlone(pki: Pki): Promise<void> {
  const { collector, sink } = await ipfixSinkToCollector(pki);
  try {
    const rates = await exportPasses(sink, SINK_FLOWS, SINK_ROUNDS);
    const st = sink.stats();
    const rate = median(rates.slice(2));
    note(`IPFIX sink alone: ${rates.map((r) => Math.round(r)).join(', ')} flows/s per round of ${SINK_FLOWS}; sent ${st.sent}, dropped ${st.dropped}`);
    report({
      bench: 'aggregator-ipfix-sink flows/s (expiry → encode → TLS socket)', value: rate, unit: 'flows/s',
      baseline: `none (median of rounds of ${SINK_FLOWS} correlated flows exported by one expiry pass to a collector process over TLS)`, ratio: null,
    });
  } finally {
    await sink.close();
    await stopChild(collector);
  }
}

/** A collector process and an IPFIX sink connected to it over mutual TLS. */
async function ipfixSinkToCollector(pki: Pki): Promise<{ collector: ChildProcess; sink: IpfixSink }> {
  const collector = child('collector');
  collector.send({ pki });
  const port = await nextMessage<number>(collector, 'port');
  const sink = new IpfixSink({
    host: '127.0.0.1', port, transport: 'tls', observationDomainId: fnv1_32('bench-cluster'),
    tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, servername: 'localhost' },
  });
  await until('the IPFIX sink connected', () => sink.exporter.connected);
  return { collector, sink };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// ------------------------------------------------------------------------------------------------
// Part 3: bytes per flow with 100k and 1M flows in the store, through the service.

function heapNow(): { heap: number; buffers: number } {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  gc();
  return { heap: v8.getHeapStatistics().used_heap_size, buffers: process.memoryUsage().arrayBuffers };
}

async function memory(pki: Pki): Promise<void> {
  if (!(globalThis as { gc?: () => void }).gc) {
    note('gc() not exposed (run with --expose-gc): memory not measured');
    return;
  }
  const nodes = 2;
  const sink = new CountingSink();
  const h = await startHarness(pki, nodes, new SinkSet([sink]), '600s', '900s');
  try {
    const before = heapNow();
    let expected = 0;
    let ticks = 0;
    for (const [label, flows] of [['100k', 100_000], ['1M', 1_000_000]] as const) {
      // Each tick, each Node starts 2 connections (intra and outgoing inter) and sends 3 records.
      const more = flows / (2 * nodes) - ticks;
      ticks += more;
      const t0 = performance.now();
      const done = await Promise.all(h.exporters.map((c) => {
        const r = nextMessage<ExporterCounts>(c, 'done', 120_000);
        c.send({ cmd: 'fixed', ticks: more });
        return r;
      }));
      expected = done.reduce((s, x) => s + x.sent, 0);
      await until('every record received', () => h.service.core.stats().recordsReceived >= expected);
      await until('every flow exported once', () => h.service.core.stats().recordsExported >= flows);
      const seconds = (performance.now() - t0) / 1000;
      const core = h.service.core.stats();
      if (core.numFlows !== flows) throw new Error(`expected ${flows} flows in the store, found ${core.numFlows}`);
      const after = heapNow();
      const heap = (after.heap - before.heap) / flows;
      const total = heap + (after.buffers - before.buffers) / flows;
      note(`memory: ${flows} flows (${core.flowsCorrelated} correlated) from ${expected} records in ${seconds.toFixed(1)} s: ${Math.round(total)} B/flow (JS heap ${Math.round(heap)} B + typed arrays ${Math.round(total - heap)} B)`);
      report({
        bench: `aggregator bytes per flow (${label} flows, heap + typed arrays, through the service)`, value: total, unit: 'bytes',
        baseline: `limit ${LIMIT_BYTES_PER_FLOW} B/flow (issue); whole aggregator process growth after full GCs`, ratio: total / LIMIT_BYTES_PER_FLOW,
      });
    }
  } finally {
    await stopHarness(h);
  }
}

// ------------------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  if (agentElementNames(4).length !== AGENT_ELEMENT_COUNT) throw new Error('agent template changed: update the record builder');
  const pki = generatePki();
  if (PARTS.includes('throughput')) {
    for (const kind of SINK_KINDS) {
      for (const nodes of EXPORTER_COUNTS) await throughput(pki, nodes, kind);
    }
  }
  if (PARTS.includes('sink')) await ipfixSinkAlone(pki);
  if (PARTS.includes('memory')) await memory(pki);
}

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

if (isMain(import.meta)) {
  const role = arg('role');
  if (role === 'exporters') await exporterRole();
  else if (role === 'collector') await collectorRole();
  else await run();
}
