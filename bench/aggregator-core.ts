/**
 * Aggregation-core benchmark (no sockets, no decoding): records/s through preprocess → correlate →
 * aggregate → expire/export on one core, for inter-Node flows (both Nodes report: correlation) and
 * intra-Node flows; and memory per flow with 100k and 1M flows in the store.
 *
 *   tsx bench/aggregator-core.ts        (npm run bench runs it with --expose-gc)
 *   AGG_BENCH_SECONDS=1 ...              shorter throughput runs
 *
 * Records are built beforehand as the decoder hands them over (DataRecord: template + values, with
 * names and addresses shared as the decoder's intern tables share them), so only the core is timed.
 * Memory is the growth of V8's used heap plus array-buffer memory (the store keeps its numeric
 * columns in typed arrays, outside the JS heap), after a full GC, divided by the number of flows.
 * Each measurement runs in a fresh child process (same Node flags), so none inherits another's
 * optimisation state or garbage.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { agentTemplate, type DataRecord, type FieldValue, type MessageHeader } from '../src/ipfix/index.ts';
import { AggregationProcess } from '../src/aggregator/core/index.ts';
import { isMain, note, report } from './report.ts';

const TARGET_RECORDS_PER_S = 500_000;
const LIMIT_BYTES_PER_FLOW = 1024;
const SECONDS = Number(process.env.AGG_BENCH_SECONDS ?? 2);

const TEMPLATE = agentTemplate(4);
const HEADER: MessageHeader = { version: 10, length: 0, exportTime: 1700000000, sequenceNumber: 0, observationDomainId: 1 };
const PODS = 5000;
const podIP = Array.from({ length: PODS }, (_, i) => `10.244.${i >> 8}.${(i & 255) + 1}`);
const podName = Array.from({ length: PODS }, (_, i) => `app-${i % 97}-7d9f8c6b5-${i.toString(36).padStart(5, 'x')}`);
const namespaces = Array.from({ length: 20 }, (_, i) => `team-${i}`);
const nodes = Array.from({ length: 50 }, (_, i) => `worker-node-${i}`);

interface FlowSpec { src: number; dst: number; sport: number; dport: number }
/** Flow i's 5-tuple: distinct for every i (ports vary beyond 50k flows). */
function flowSpec(i: number): FlowSpec {
  return { src: i % PODS, dst: (i * 7 + 13) % PODS, sport: 10000 + (i % 50000), dport: 8080 + Math.floor(i / 50000) };
}

/** Counters for update `u` (shared bigints: values repeat across flows as decoded ones would not, but cost the same). */
const COUNTERS = Array.from({ length: 16 }, (_, u) => [10 * (u + 1), 15000 * (u + 1), 10, 15000, 8 * (u + 1), 9000 * (u + 1), 8, 9000].map(BigInt));

/** One agent record: side 'src' (source Node), 'dst' (destination Node) or 'intra' (both Pods local). */
function agentValues(i: number, side: 'src' | 'dst' | 'intra', update: number): FieldValue[] {
  const f = flowSpec(i);
  const c = COUNTERS[update % COUNTERS.length];
  const srcKnown = side !== 'dst';
  const dstKnown = side !== 'src';
  return [
    1700000000, 1700000000 + 10 * (update + 1), 2, f.sport, f.dport, 6,
    c[0], c[1], c[2], c[3], podIP[f.src], podIP[f.dst], c[4], c[5], c[6], c[7],
    srcKnown ? podName[f.src] : '', srcKnown ? namespaces[f.src % 20] : '', srcKnown ? nodes[f.src % 50] : '',
    dstKnown ? podName[f.dst] : '', dstKnown ? namespaces[f.dst % 20] : '', dstKnown ? nodes[f.dst % 50] : '',
    0, '',
    dstKnown ? 'allow-frontend' : '', dstKnown ? namespaces[f.dst % 20] : '', dstKnown ? 2 : 0, dstKnown ? 'ingress-0' : '', dstKnown ? 1 : 0,
    srcKnown ? 'allow-egress' : '', srcKnown ? namespaces[f.src % 20] : '', srcKnown ? 2 : 0, srcKnown ? 'egress-0' : '', srcKnown ? 1 : 0,
    'ESTABLISHED', side === 'intra' ? 1 : 2, '', '', '', '', '', '0.0.0.0',
  ];
}

function dataRecord(values: FieldValue[]): DataRecord {
  return { template: TEMPLATE, values, header: HEADER };
}

/**
 * Runs `rounds` of updates over `flows` flows for about SECONDS, timing only ingest()/expire():
 * each round's records, then 10 s of injected time and an expiry; after the last round the clock
 * passes the inactive timeout so every flow is exported and deleted, and the cycle starts over.
 */
function throughput(kind: 'inter' | 'intra', flows: number, rounds: number): { rate: number; exports: number } {
  const batches: DataRecord[][] = [];
  for (let u = 0; u < rounds; u++) {
    const batch: DataRecord[] = [];
    for (let i = 0; i < flows; i++) {
      if (kind === 'intra') batch.push(dataRecord(agentValues(i, 'intra', u)));
      else {
        batch.push(dataRecord(agentValues(i, 'src', u)));
        batch.push(dataRecord(agentValues(i, 'dst', u)));
      }
    }
    batches.push(batch);
  }
  let now = 1_000_000;
  let exports = 0;
  const p = new AggregationProcess({ sink: () => { exports++; }, now: () => now, initialCapacity: flows });
  let records = 0;
  let elapsed = 0;
  while (elapsed < SECONDS * 1000) {
    const start = performance.now();
    for (const batch of batches) {
      for (const r of batch) p.ingest(r);
      records += batch.length;
      now += 10_000;
      p.expire(now);
    }
    now += 100_000;
    p.expire(now);
    elapsed += performance.now() - start;
    if (p.numFlows !== 0) throw new Error(`flows left after expiry: ${p.numFlows}`);
  }
  const st = p.stats();
  if (st.recordsDropped !== 0 || st.recordsStale !== 0) throw new Error(`unexpected drops/stale: ${JSON.stringify(st)}`);
  if (kind === 'inter' && st.oneSidedFlows !== 0) throw new Error('inter-Node flows not correlated');
  return { rate: records / (elapsed / 1000), exports };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Bytes per flow held by a store of `n` correlated inter-Node flows (JS heap, and heap + array buffers). */
function memoryPerFlow(n: number): { heap: number; total: number } | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  const measure = (): { heap: number; buffers: number } => {
    gc();
    gc();
    return { heap: v8.getHeapStatistics().used_heap_size, buffers: process.memoryUsage().arrayBuffers };
  };
  const before = measure();
  const now = 1_000_000;
  const p = new AggregationProcess({ sink: () => {}, now: () => now });
  for (let i = 0; i < n; i++) {
    p.ingest(dataRecord(agentValues(i, 'src', 0)));
    p.ingest(dataRecord(agentValues(i, 'dst', 0)));
  }
  p.expire(now); // exports every flow once (exportOnReady), as a live aggregator would
  const after = measure();
  if (p.numFlows !== n) throw new Error(`expected ${n} flows, store has ${p.numFlows}`);
  const heap = (after.heap - before.heap) / n;
  const total = heap + (after.buffers - before.buffers) / n;
  return { heap, total };
}

type Scenario = 'inter' | 'intra' | 'mem-100k' | 'mem-1m';

/** Runs one scenario in this process and sends its results to the parent (or prints them). */
function runScenario(scenario: Scenario): BenchLine[] {
  if (scenario === 'inter' || scenario === 'intra') {
    const [flows, rounds] = scenario === 'inter' ? [50_000, 4] : [100_000, 4];
    note(`aggregator-core: ${scenario}-Node, ${flows} flows × ${rounds} updates${scenario === 'inter' ? ' × 2 Nodes' : ''}, 3 × ${SECONDS}s`);
    const rate = median([0, 1, 2].map(() => throughput(scenario, flows, rounds).rate));
    return [{
      bench: `aggregator-core ${scenario}-node records/s`, value: rate, unit: 'records/s',
      baseline: `target ${TARGET_RECORDS_PER_S} records/s for the core (issue: 200k records/s end to end incl. decode and TLS)`,
      ratio: rate / TARGET_RECORDS_PER_S,
    }];
  }
  const n = scenario === 'mem-100k' ? 100_000 : 1_000_000;
  const label = scenario === 'mem-100k' ? '100k' : '1M';
  note(`aggregator-core: memory with ${n} flows`);
  const m = memoryPerFlow(n);
  if (!m) {
    note('gc() not exposed (run with --expose-gc): memory not measured');
    return [];
  }
  return [
    {
      bench: `aggregator-core bytes per flow (${label} flows, heap + typed arrays)`, value: m.total, unit: 'bytes',
      baseline: `limit ${LIMIT_BYTES_PER_FLOW} B/flow (issue)`, ratio: m.total / LIMIT_BYTES_PER_FLOW,
    },
    {
      bench: `aggregator-core bytes per flow (${label} flows, JS heap only)`, value: m.heap, unit: 'bytes',
      baseline: `limit ${LIMIT_BYTES_PER_FLOW} B/flow (issue)`, ratio: m.heap / LIMIT_BYTES_PER_FLOW,
    },
  ];
}

type BenchLine = Parameters<typeof report>[0];

function inChild(scenario: Scenario): Promise<BenchLine[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--scenario', scenario], { execArgv: process.execArgv });
    let lines: BenchLine[] = [];
    child.once('message', (m) => { lines = m as BenchLine[]; });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(lines) : reject(new Error(`scenario ${scenario} exited with ${code}`))));
  });
}

export async function run(): Promise<void> {
  for (const scenario of ['inter', 'intra', 'mem-100k', 'mem-1m'] as const) {
    for (const line of await inChild(scenario)) report(line);
  }
}

const scenarioAt = process.argv.indexOf('--scenario');
if (scenarioAt >= 0) {
  const lines = runScenario(process.argv[scenarioAt + 1] as Scenario);
  if (process.send) process.send(lines);
  else for (const line of lines) report(line);
} else if (isMain(import.meta)) {
  await run();
}
