/**
 * Collector benchmark.
 *
 * 1. Throughput: records/s received and decoded by one collecting process (its own Node process,
 *    consuming through batches() and counting) over TCP, TLS and UDP, with 1, 16 and 64 concurrent
 *    exporters. Exporters live in sender processes that write pre-encoded messages of Antrea's
 *    42-IE IPv4 agent template with realistic strings (sequence numbers patched per exporter),
 *    as fast as the transport lets them (UDP: paced far above what the collector can take).
 * 2. Lossless UDP rate, ours vs nfcapd on the same stream: two paced sender processes send
 *    loopback-MTU-sized messages (~268 records each); the rate steps up until more than 0.1% of the
 *    records are lost, then is bisected. nfcapd (restarted per step, files on tmpfs) is counted with
 *    `nfdump -I`; ours by their decoded-record counters: the collecting process decoding on its
 *    main thread, and the standalone collector with 2 decode worker threads (`--decode-workers 2
 *    --output none`). Reports each and its ratio to nfcapd.
 *
 *   tsx bench/collector.ts              BENCH_QUICK=1 for a shorter run;
 *                                       BENCH_COLLECTOR_PARTS=throughput or =lossless for one part
 * Internally the same file runs as the collector process (--role=collector) and as a sender (--role=sender).
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { agentTemplate, MessageWriter } from '../src/ipfix/index.ts';
import { startCollector } from '../src/collector/index.ts';
import { CollectingProcess, mtuOfLocalAddress, udpMessageSizeForMtu, type TransportProtocol } from '../src/transport/index.ts';
import { createTestPki, type TestPki } from '../test/interop/helpers-transport/certs.ts';
import { realisticAgentValues } from '../test/interop/helpers-transport/flows.ts';
import { freeUdpPort } from '../test/interop/peers/nfdump.ts';
import { Daemon, haveCommand, run as runTool } from '../test/interop/peers/process.ts';
import { nextMessage, stopChild } from './children.ts';
import { isMain, note, report } from './report.ts';

const SELF = fileURLToPath(import.meta.url);
const QUICK = process.env.BENCH_QUICK === '1';
const TCP_TARGET = 300_000;
const LOSS_LIMIT = 0.001;
/** Decode worker threads of the second collector in the lossless comparison. */
const LOSSLESS_DECODE_WORKERS = 2;
const CHILD_FLAGS = ['--max-semi-space-size=64', '--import', 'tsx'];

// ------------------------------------------------------------------------------------------------
// Pre-encoded traffic: one template message and data messages, with record counts.

interface Traffic {
  template: Buffer;
  messages: Buffer[];
  counts: number[];
}

function encodeTraffic(maxMessageSize: number, records = 8192): Traffic {
  const t = agentTemplate(4);
  const w = new MessageWriter({ observationDomainId: 0x5eed, maxMessageSize });
  w.addTemplate(t);
  w.flush();
  const template = w.drain()[0];
  for (let i = 0; i < records; i++) w.addRecord(t, realisticAgentValues(i));
  w.flush();
  const all = w.drain();
  const seqs = all.map((m) => m.readUInt32BE(8));
  const counts = all.map((_, i) => (i + 1 < all.length ? seqs[i + 1] : records) - seqs[i]);
  // Keep full messages only, so every message of the stream has about the same size.
  const keep = all.length > 1 ? all.length - 1 : 1;
  return { template, messages: all.slice(0, keep), counts: counts.slice(0, keep) };
}

/** The next message of a stream with its header patched (sequence number, export time). */
class Stream {
  private seq = 0;
  private next = 0;
  constructor(private readonly traffic: Traffic) {}

  template(): Buffer {
    const b = Buffer.from(this.traffic.template);
    b.writeUInt32BE(Math.floor(Date.now() / 1000), 4);
    b.writeUInt32BE(this.seq, 8);
    return b;
  }

  /** A copy of the next message (for stream sockets, which keep the buffer until written). */
  message(): { buf: Buffer; records: number } {
    const { header, body, records } = this.parts();
    return { buf: Buffer.concat([header, body]), records };
  }

  /** The next message as a fresh 16-octet header and the shared rest (a datagram sent without copying). */
  parts(): { header: Buffer; body: Buffer; records: number } {
    const i = this.next;
    this.next = (i + 1) % this.traffic.messages.length;
    const m = this.traffic.messages[i];
    const header = Buffer.from(m.subarray(0, 16));
    header.writeUInt32BE(this.seq, 8);
    this.seq = (this.seq + this.traffic.counts[i]) >>> 0;
    return { header, body: m.subarray(16), records: this.traffic.counts[i] };
  }
}

// ------------------------------------------------------------------------------------------------
// Role: collector process.

interface CollectorReport { records: number; messages: number; lost: number; dropped: number; errors: number; cpuMs: number }

/** The standalone collector with decode worker threads, printing nothing (counts and rings only). */
async function workersCollectorRole(transport: TransportProtocol, decodeWorkers: number): Promise<void> {
  const running = await startCollector({ transport, address: '127.0.0.1', port: 0, output: 'none', decodeWorkers, ringSize: 1024 });
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'stats') {
      const cpu = process.cpuUsage();
      const s = running.process.stats;
      const r: CollectorReport = { records: s.records, messages: s.messages, lost: s.recordsLost, dropped: s.messagesDropped, errors: s.decodeErrorsTotal, cpuMs: (cpu.user + cpu.system) / 1000 };
      process.send!({ stats: r });
    } else if (msg.cmd === 'exit') {
      void running.close().then(() => process.exit(0));
    }
  });
  process.send!({ ready: true, port: running.process.address.port });
}

async function collectorRole(transport: TransportProtocol, certDir: string | undefined): Promise<void> {
  const pem = (name: string): Buffer => readFileSync(join(certDir!, name));
  const cp = new CollectingProcess({
    transport, address: '127.0.0.1', port: 0, maxQueuedRecords: 1 << 17,
    tls: certDir ? { cert: pem('server.crt'), key: pem('server.key'), ca: pem('ca.crt'), requireClientCert: true } : undefined,
  });
  const { port } = await cp.start();
  let records = 0;
  let messages = 0;
  void (async () => {
    for await (const batch of cp.batches()) {
      for (const m of batch) {
        messages++;
        records += m.records.length;
      }
    }
  })();
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'stats') {
      const cpu = process.cpuUsage();
      const s = cp.stats;
      const r: CollectorReport = { records, messages, lost: s.recordsLost, dropped: s.recordsDropped, errors: s.decodeErrorsTotal, cpuMs: (cpu.user + cpu.system) / 1000 };
      process.send!({ stats: r });
    } else if (msg.cmd === 'exit') {
      void cp.close().then(() => process.exit(0));
    }
  });
  process.send!({ ready: true, port });
}

// ------------------------------------------------------------------------------------------------
// Role: sender process (several exporters, flooding over TCP/TLS/UDP, or paced UDP).

interface SenderJob { cmd: 'run'; port: number; ratePerSecond: number; durationMs: number }
interface SenderResult { records: number; datagrams: number; elapsedMs: number }

async function senderRole(transport: TransportProtocol, port: number, exporters: number, certDir: string | undefined): Promise<void> {
  const size = transport === 'udp' ? udpMessageSizeForMtu(mtuOfLocalAddress('127.0.0.1') ?? 1500, 4) : 65535;
  const traffic = encodeTraffic(size);
  if (transport === 'udp') return pacedUdpSender(traffic, exporters);
  const pem = (name: string): Buffer => readFileSync(join(certDir!, name));
  const creds = certDir ? { ca: pem('ca.crt'), cert: pem('client.crt'), key: pem('client.key') } : undefined;
  let stop = false;
  const sockets: net.Socket[] = [];
  await Promise.all(Array.from({ length: exporters }, () => new Promise<void>((resolve, reject) => {
    const s = creds
      ? tls.connect({ host: '127.0.0.1', port, ...creds, servername: 'localhost' }, () => resolve())
      : net.connect({ host: '127.0.0.1', port }, () => resolve());
    s.on('error', (e) => (stop ? undefined : reject(e)));
    sockets.push(s);
  })));
  const streams = sockets.map(() => new Stream(traffic));
  sockets.forEach((s, i) => s.write(streams[i].template()));
  process.send!({ ready: true });
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd !== 'go') {
      stop = true;
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
    sockets.forEach((s, i) => {
      const pump = (): void => {
        while (!stop) {
          if (!s.write(streams[i].message().buf)) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

/** UDP exporters: on each job, send the template then data at the given rate (1 ms ticks, no busy loop). */
async function pacedUdpSender(traffic: Traffic, exporters: number): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: exporters }, () => new Promise<dgram.Socket>((resolve) => {
    const s = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 << 20 });
    s.bind(0, '127.0.0.1', () => resolve(s));
  })));
  const streams = sockets.map(() => new Stream(traffic));
  const avgRecords = traffic.counts.reduce((a, b) => a + b, 0) / traffic.counts.length;
  process.on('message', (msg: SenderJob | { cmd: 'exit' }) => {
    if (msg.cmd === 'exit') {
      for (const s of sockets) s.close();
      process.exit(0);
    }
    const job = msg;
    sockets.forEach((s, i) => s.send(streams[i].template(), job.port, '127.0.0.1'));
    const perSecond = job.ratePerSecond / avgRecords;
    const result: SenderResult = { records: 0, datagrams: 0, elapsedMs: 0 };
    const start = performance.now();
    let k = 0;
    const tick = (): void => {
      const elapsed = performance.now() - start;
      const due = Math.floor(Math.min(elapsed, job.durationMs) / 1000 * perSecond);
      while (result.datagrams < due) {
        const { header, body, records } = streams[k % streams.length].parts();
        sockets[k % sockets.length].send([header, body], job.port, '127.0.0.1');
        k++;
        result.datagrams++;
        result.records += records;
      }
      if (elapsed < job.durationMs) {
        setTimeout(tick, 1);
        return;
      }
      result.elapsedMs = elapsed;
      process.send!({ result });
    };
    tick();
  });
  process.send!({ ready: true });
}

// ------------------------------------------------------------------------------------------------
// Orchestration helpers.

function child(args: string[]): ChildProcess {
  return fork(SELF, args, { execArgv: CHILD_FLAGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function collectorStats(c: ChildProcess): Promise<CollectorReport> {
  c.send({ cmd: 'stats' });
  return nextMessage<CollectorReport>(c, 'stats');
}

/** Waits until the collector's record count stops moving (the stream has drained). */
async function settled(c: ChildProcess): Promise<CollectorReport> {
  let last = await collectorStats(c);
  for (let i = 0; i < 50; i++) {
    await sleep(150);
    const now = await collectorStats(c);
    if (now.records === last.records) return now;
    last = now;
  }
  return last;
}

// ------------------------------------------------------------------------------------------------
// Part 1: throughput.

async function throughput(transport: TransportProtocol, certDir: string | undefined): Promise<void> {
  const collector = child(['--role=collector', `--transport=${transport}`, ...(certDir ? [`--certs=${certDir}`] : [])]);
  try {
    const port = await nextMessage<number>(collector, 'port');
    for (const exporters of [1, 16, 64]) {
      const senders = exporters === 1 ? 1 : 2;
      const procs = Array.from({ length: senders }, () => child(['--role=sender', `--transport=${transport}`, `--port=${port}`, `--exporters=${exporters / senders}`, ...(certDir ? [`--certs=${certDir}`] : [])]));
      try {
        await Promise.all(procs.map((p) => nextMessage(p, 'ready')));
        const warmup = QUICK ? 300 : 700;
        const window = QUICK ? 1000 : 2500;
        let finished: Promise<unknown> = Promise.resolve();
        if (transport === 'udp') {
          // Offer far more than a collector takes; count what it receives and decodes.
          const offered = 3_000_000;
          const job = { cmd: 'run', port, ratePerSecond: offered / senders, durationMs: warmup + window + 200 };
          finished = Promise.all(procs.map((p) => nextMessage(p, 'result', job.durationMs + 30_000)));
          procs.forEach((p) => p.send(job));
        } else {
          procs.forEach((p) => p.send({ cmd: 'go' }));
        }
        await sleep(warmup);
        const a = await collectorStats(collector);
        const t0 = performance.now();
        await sleep(window);
        const b = await collectorStats(collector);
        const seconds = (performance.now() - t0) / 1000;
        const rate = (b.records - a.records) / seconds;
        const cores = (b.cpuMs - a.cpuMs) / 1000 / seconds;
        await finished;
        note(`${transport} ${exporters} exporters: ${Math.round(rate)} records/s, collector CPU ${cores.toFixed(2)} cores, lost by sequence ${b.lost - a.lost}, decode errors ${b.errors - a.errors}`);
        report({
          bench: `collector-${transport}-${exporters}-exporter${exporters > 1 ? 's' : ''}`,
          value: rate,
          unit: 'records/s',
          baseline: transport === 'tcp' ? `acceptance target ${TCP_TARGET} records/s into one collector process` : 'none',
          ratio: transport === 'tcp' ? rate / TCP_TARGET : null,
        });
      } finally {
        await Promise.all(procs.map((p) => stopChild(p)));
        if (transport === 'udp') await settled(collector);
      }
    }
  } finally {
    await stopChild(collector);
  }
}

// ------------------------------------------------------------------------------------------------
// Part 2: highest lossless UDP rate, ours and nfcapd's.

interface Counter { start(port: number): Promise<void>; stop(): Promise<number> }

/** Sends `rate` records/s for `ms` with the sender processes; returns the records sent. */
async function offer(senders: ChildProcess[], port: number, rate: number, ms: number): Promise<{ records: number; achieved: number }> {
  const results = await Promise.all(senders.map((s) => {
    const result = nextMessage<SenderResult>(s, 'result', ms + 30_000);
    s.send({ cmd: 'run', port, ratePerSecond: rate / senders.length, durationMs: ms });
    return result;
  }));
  const records = results.reduce((n, r) => n + r.records, 0);
  const elapsed = Math.max(...results.map((r) => r.elapsedMs));
  return { records, achieved: records / (elapsed / 1000) };
}

interface Search { name: string; counter: Counter; port: number; good: number; bad: number; senderLimited: boolean }

/** One trial at `rate`; a failed trial is repeated once, so a single disturbance does not decide. */
async function passes(x: Search, senders: ChildProcess[], rate: number): Promise<boolean> {
  const stepMs = QUICK ? 800 : 1500;
  for (let attempt = 0; attempt < 2; attempt++) {
    await x.counter.start(x.port);
    const sent = await offer(senders, x.port, rate, stepMs);
    const received = await x.counter.stop();
    const loss = 1 - received / sent.records;
    const limited = sent.achieved < rate * 0.95;
    note(`${x.name}: offered ${Math.round(rate)} records/s (sent ${Math.round(sent.achieved)}/s), received ${received} of ${sent.records}, loss ${(loss * 100).toFixed(3)}%${limited ? ' (sender fell short)' : ''}`);
    if (loss <= LOSS_LIMIT && !limited) return true;
    if (limited && attempt === 1) x.senderLimited = true;
  }
  return false;
}

/**
 * The highest rate each collector takes with at most 0.1% loss: rates step up ×1.5 until a
 * collector fails, then the interval is bisected. The collectors take turns at every rate, so a
 * change in the machine's load affects both alike.
 */
async function losslessRates(searches: Search[], senders: ChildProcess[]): Promise<void> {
  let rate = 200_000;
  while (rate <= 8_000_000 && searches.some((x) => !Number.isFinite(x.bad) && !x.senderLimited)) {
    for (const x of searches) {
      if (Number.isFinite(x.bad) || x.senderLimited) continue;
      if (await passes(x, senders, rate)) x.good = rate; else x.bad = rate;
    }
    rate *= 1.5;
  }
  for (let i = 0; i < (QUICK ? 1 : 2); i++) {
    for (const x of searches) {
      if (!Number.isFinite(x.bad) || x.senderLimited) continue;
      const mid = (x.good + x.bad) / 2;
      if (await passes(x, senders, mid)) x.good = mid; else x.bad = mid;
    }
  }
}

function ourCounter(collector: ChildProcess): Counter {
  let before = 0;
  return {
    async start() { before = (await settled(collector)).records; },
    async stop() { return (await settled(collector)).records - before; },
  };
}

function nfcapdCounter(): Counter {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  let dir = '';
  let daemon: Daemon | null = null;
  return {
    async start(port) {
      dir = mkdtempSync(join(base, 'fvt-bench-nfcapd-'));
      daemon = await Daemon.start('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-t', '3600', '-B', String(8 << 20)], { ready: /Startup nfcapd/ });
    },
    async stop() {
      await sleep(300);
      await daemon!.stop('SIGTERM', 10_000);
      const r = await runTool('nfdump', ['-R', dir, '-I'], { timeoutMs: 60_000 });
      rmSync(dir, { recursive: true, force: true });
      const m = /^Flows:\s+(\d+)/m.exec(r.stdout);
      if (!m) throw new Error(`nfdump -I printed no flow count:\n${r.stdout}`);
      return Number(m[1]);
    },
  };
}

async function udpComparison(): Promise<void> {
  note(`load average before the UDP comparison: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (!(await haveCommand('nfcapd')) || !(await haveCommand('nfdump'))) {
    note('nfcapd/nfdump not installed: lossless UDP comparison skipped');
    return;
  }
  const senders = [0, 1].map(() => child(['--role=sender', '--transport=udp', '--port=0', '--exporters=1']));
  const collector = child(['--role=collector', '--transport=udp']);
  const workersCollector = child(['--role=collector', '--transport=udp', `--decode-workers=${LOSSLESS_DECODE_WORKERS}`]);
  try {
    await Promise.all(senders.map((s) => nextMessage(s, 'ready')));
    const ourPort = await nextMessage<number>(collector, 'port');
    const workersPort = await nextMessage<number>(workersCollector, 'port');
    const nfPort = await freeUdpPort();
    const nf: Search = { name: 'nfcapd', counter: nfcapdCounter(), port: nfPort, good: 0, bad: Infinity, senderLimited: false };
    const ours: Search = { name: 'ours', counter: ourCounter(collector), port: ourPort, good: 0, bad: Infinity, senderLimited: false };
    const oursWorkers: Search = { name: `ours, ${LOSSLESS_DECODE_WORKERS} decode workers`, counter: ourCounter(workersCollector), port: workersPort, good: 0, bad: Infinity, senderLimited: false };
    await losslessRates([nf, ours, oursWorkers], senders);
    const limited = (r: { senderLimited: boolean }): string => (r.senderLimited ? ' (the senders were the limit)' : '');
    const vsNfcapd = `nfcapd's lossless rate in the same run (${Math.round(nf.good)} records/s)`;
    report({ bench: 'collector-udp-lossless-nfcapd', value: nf.good, unit: 'records/s', baseline: `nfcapd 1.7 highest rate with <0.1% loss${limited(nf)}`, ratio: null });
    report({ bench: 'collector-udp-lossless', value: ours.good, unit: 'records/s', baseline: `${vsNfcapd}; decoding on the main thread${limited(ours)}`, ratio: nf.good > 0 ? ours.good / nf.good : null });
    report({ bench: `collector-udp-lossless-${LOSSLESS_DECODE_WORKERS}-decode-workers`, value: oursWorkers.good, unit: 'records/s', baseline: `${vsNfcapd}; flowvis collector --decode-workers ${LOSSLESS_DECODE_WORKERS} --output none${limited(oursWorkers)}`, ratio: nf.good > 0 ? oursWorkers.good / nf.good : null });
  } finally {
    await Promise.all([...senders, collector, workersCollector].map((c) => stopChild(c)));
  }
}

// ------------------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  let pki: TestPki | null = null;
  try {
    pki = await createTestPki();
    const certDir = pki.dir;
    const parts = (process.env.BENCH_COLLECTOR_PARTS ?? 'throughput,lossless').split(',');
    if (parts.includes('throughput')) {
      for (const transport of ['tcp', 'tls', 'udp'] as const) await throughput(transport, transport === 'tls' ? certDir : undefined);
    }
    if (parts.includes('lossless')) await udpComparison();
  } finally {
    await pki?.cleanup();
  }
}

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

if (isMain(import.meta)) {
  const role = arg('role');
  if (role === 'collector') {
    const workers = Number(arg('decode-workers') ?? 0);
    if (workers > 0) await workersCollectorRole(arg('transport') as TransportProtocol, workers);
    else await collectorRole(arg('transport') as TransportProtocol, arg('certs'));
  } else if (role === 'sender') {
    await senderRole(arg('transport') as TransportProtocol, Number(arg('port')), Number(arg('exporters')), arg('certs'));
  } else {
    await run();
  }
}
