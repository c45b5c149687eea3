/**
 * Codec benchmark: encode and decode records/s on one core for Antrea's agent template (42 IEs,
 * IPv4, realistic strings) and the aggregator template (69 IEs), heap bytes allocated per decoded
 * record, and a long fuzz run (10,000,000 mutated messages, on two child processes).
 *
 *   tsx bench/codec.ts            (npm run bench runs it with --expose-gc and a large young generation)
 *   FUZZ_MESSAGES=1000000 ...     to shorten the fuzz run
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { agentTemplate, aggregatorTemplate, MessageWriter, SessionDecoder, type Template, type FieldValue } from '../src/ipfix/index.ts';
import { agentValues, aggregatorValues, seedMessages } from '../src/ipfix/testing/seeds.ts';
import { fuzz } from '../src/ipfix/testing/fuzz.ts';
import { isMain, note, report } from './report.ts';

const GO_IPFIX_RECORDS_PER_S = 66_000; // go-ipfix's published collector benchmark (reference doc §3.6)

function encodeRate(t: Template, rows: FieldValue[][], seconds: number): { rate: number } {
  const w = new MessageWriter({ observationDomainId: 1 });
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 10_000; i++) w.addRecord(t, rows[i % rows.length]);
    n += 10_000;
    w.drain();
  }
  w.flush();
  return { rate: n / ((performance.now() - start) / 1000) };
}

function encodeAll(t: Template, rows: FieldValue[][], count: number): Buffer[] {
  const w = new MessageWriter({ observationDomainId: 1 });
  w.addTemplate(t);
  for (let i = 0; i < count; i++) w.addRecord(t, rows[i % rows.length]);
  w.flush();
  return w.drain();
}

/** Median of `rounds` measurements, so one disturbed round does not decide the figure. */
function median(rounds: number, measure: () => number): number {
  const xs = Array.from({ length: rounds }, measure).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

function decodeRate(messages: Buffer[], seconds: number): number {
  const d = new SessionDecoder({ transport: 'tcp' });
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (const m of messages) n += d.decodeMessage(m).records.length;
  }
  return n / ((performance.now() - start) / 1000);
}

/** Heap bytes allocated per decoded record (young generation sized so no GC runs meanwhile). */
function allocatedPerRecord(messages: Buffer[]): number | null {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  const d = new SessionDecoder({ transport: 'tcp' });
  d.decodeMessage(messages[0]);
  gc();
  const before = v8.getHeapStatistics().used_heap_size;
  let n = 0;
  const keep: unknown[] = [];
  for (const m of messages) {
    const r = d.decodeMessage(m);
    n += r.records.length;
    keep.push(r);
  }
  const after = v8.getHeapStatistics().used_heap_size;
  return keep.length > 0 ? (after - before) / n : null;
}

async function fuzzInWorkers(total: number): Promise<{ messages: number; failures: number; seconds: number }> {
  const workers = 2;
  const start = performance.now();
  const results = await Promise.all(
    Array.from({ length: workers }, (_, k) => new Promise<{ messages: number; failures: string[] }>((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), ['--fuzz-worker', String(Math.ceil(total / workers)), String(1000 + k)], { execArgv: ['--import', 'tsx'] });
      child.once('message', (m) => resolve(m as { messages: number; failures: string[] }));
      child.once('error', reject);
      child.once('exit', (code) => { if (code !== 0) reject(new Error(`fuzz worker exited with ${code}`)); });
    })),
  );
  const failures = results.reduce((a, r) => a + r.failures.length, 0);
  for (const r of results) for (const f of r.failures.slice(0, 3)) note(`fuzz failure: ${f}`);
  return { messages: results.reduce((a, r) => a + r.messages, 0), failures, seconds: (performance.now() - start) / 1000 };
}

export async function run(): Promise<void> {
  const rows4 = Array.from({ length: 256 }, (_, i) => agentValues(i, 4));
  const rowsAgg = Array.from({ length: 256 }, (_, i) => aggregatorValues(i, 4));
  const agent = agentTemplate(4);
  const aggregator = aggregatorTemplate(4);

  encodeRate(agent, rows4, 1); // warm-up
  const enc = { rate: median(5, () => encodeRate(agent, rows4, 0.6).rate) };
  const agentMsgs = encodeAll(agent, rows4, 200_000);
  note(`agent template: ${agentMsgs.reduce((a, m) => a + m.length, 0) / 200_000} octets per record on the wire`);
  decodeRate(agentMsgs, 1);
  const dec = median(5, () => decodeRate(agentMsgs, 0.6));
  report({ bench: 'codec.encode.agent42.ipv4', value: enc.rate, unit: 'records/s', baseline: 'go-ipfix collector benchmark 66k records/s', ratio: enc.rate / GO_IPFIX_RECORDS_PER_S });
  report({ bench: 'codec.decode.agent42.ipv4', value: dec, unit: 'records/s', baseline: 'go-ipfix collector benchmark 66k records/s', ratio: dec / GO_IPFIX_RECORDS_PER_S });

  encodeRate(aggregator, rowsAgg, 1);
  const encAgg = { rate: median(5, () => encodeRate(aggregator, rowsAgg, 0.6).rate) };
  const aggMsgs = encodeAll(aggregator, rowsAgg, 100_000);
  decodeRate(aggMsgs, 1);
  const decAgg = median(5, () => decodeRate(aggMsgs, 0.6));
  report({ bench: 'codec.encode.aggregator69.ipv4', value: encAgg.rate, unit: 'records/s', baseline: 'none', ratio: null });
  report({ bench: 'codec.decode.aggregator69.ipv4', value: decAgg, unit: 'records/s', baseline: 'none', ratio: null });

  const alloc = allocatedPerRecord(encodeAll(agent, rows4, 50_000));
  if (alloc === null) note('run with --expose-gc to measure allocated bytes per decoded record');
  else report({ bench: 'codec.decode.agent42.heap_bytes_per_record', value: alloc, unit: 'bytes', baseline: 'go-ipfix BenchmarkCollectingProcess_DecodeDataRecord 488 B/op', ratio: alloc / 488 });

  const total = Number(process.env.FUZZ_MESSAGES ?? 10_000_000);
  note(`fuzzing ${total} mutated messages in 2 child processes...`);
  const f = await fuzzInWorkers(total);
  report({ bench: 'codec.fuzz.messages_without_failure', value: f.failures === 0 ? f.messages : 0, unit: 'messages', baseline: 'none', ratio: null });
  report({ bench: 'codec.fuzz.rate', value: f.messages / f.seconds, unit: 'messages/s', baseline: 'none', ratio: null });
  if (f.failures > 0) process.exitCode = 1;
}

const workerAt = process.argv.indexOf('--fuzz-worker');
if (workerAt > 0) {
  // Child side of the fuzz run.
  const stats = fuzz(Number(process.argv[workerAt + 1]), seedMessages(), Number(process.argv[workerAt + 2]));
  process.send!({ messages: stats.messages, failures: stats.failures }, undefined, {}, () => process.exit(0));
} else if (isMain(import.meta)) {
  await run();
}
