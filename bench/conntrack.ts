/**
 * Conntrack poll benchmark: the time to dump and parse a real kernel conntrack table over netlink,
 * per entry, against conntrack-tools' `conntrack -L -o xml` on the same table, at 10k, 100k and
 * 250k entries.
 *
 * A fresh node namespace gets nf_conntrack_udp_timeout=600 and an output-hook `ct state new
 * accept` rule; a Node process inside it sends one UDP datagram from one socket to N distinct
 * destination address/port pairs routed to a next hop with a permanent neighbour entry, which
 * leaves N unreplied UDP entries (a namespace's table holds at most 262144). Each poll figure is
 * the median of several dumps (15/7/5) in one long-lived process (as the agent polls), reading
 * every field of every entry through the reused view; the CLI figure is the median of 7/5/3 runs
 * with its XML sent to /dev/null.
 *
 *   tsx bench/conntrack.ts          (root; about a minute)
 */
import { createSocket } from 'node:dgram';
import { NetnsCluster } from '../test/e2e/netns/cluster.ts';
import { NetlinkConntrackSource } from '../src/conntrack/index.ts';
import { ConnectionStore } from '../src/exporter/connection-store.ts';
import { EMPTY_CONTEXT } from '../src/exporter/connection.ts';
import { isMain, note, report } from './report.ts';

const SIZES = [10_000, 100_000, 250_000] as const;
/** Dumps per size (median taken): small tables are noisier on a shared machine. */
const RUNS: Record<number, number> = { 10_000: 15, 100_000: 7, 250_000: 5 };
const CLI_RUNS: Record<number, number> = { 10_000: 7, 100_000: 5, 250_000: 3 };
const NEXT_HOP = '10.0.0.200';
const TARGET_NET = '10.201.0.0/16';
const PAIRS_PER_PORT = 60_000;

/** Destination of the i-th entry: 60,000 addresses in 10.201.0.0/16 per destination port. */
function destination(i: number): { address: string; port: number } {
  const a = 2 + (i % PAIRS_PER_PORT);
  return { address: `10.201.${a >> 8}.${a & 0xff}`, port: 1000 + Math.floor(i / PAIRS_PER_PORT) };
}

/** Runs inside the namespace: one UDP datagram per destination in [from, to). */
async function fill(from: number, to: number, bindAddress: string, sourcePort: number): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(sourcePort, bindAddress, resolve));
  const payload = Buffer.alloc(8);
  let inflight = 0;
  for (let i = from; i < to; i++) {
    const d = destination(i);
    inflight++;
    sock.send(payload, d.port, d.address, () => inflight--);
    if (inflight > 2000) await new Promise((r) => setImmediate(r));
  }
  while (inflight > 0) await new Promise((r) => setImmediate(r));
  sock.close();
}

/**
 * Runs inside the namespace: the agent's whole poll (netlink dump + connection store update) over
 * the table, `runs` times after a first poll that fills the store; prints the median and the heap
 * bytes per tracked connection (store arrays and everything they reference, measured after gc).
 */
async function agentPoll(runs: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const source = await NetlinkConntrackSource.open();
  const context = { ...EMPTY_CONTEXT, sourcePodName: 'bench', sourcePodNamespace: 'bench', sourceNodeName: 'bench', flowType: 3 };
  // Typed arrays live outside the JS heap: count their backing stores (arrayBuffers) as well.
  const memory = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc?.();
  const heapBefore = memory();
  const store = new ConnectionStore({
    activeTimeoutMs: 5_000, idleTimeoutMs: 15_000, staleTimeoutMs: 300_000, resolveContext: () => context, initialCapacity: 1024,
  });
  const poll = async (): Promise<number> => {
    const t0 = performance.now();
    const now = Date.now();
    store.beginPoll(now);
    await source.dump((e) => store.upsert(e, now));
    return performance.now() - t0;
  };
  const firstMs = await poll();
  gc?.();
  const heapAfter = memory();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await poll());
  source.close();
  process.stdout.write(JSON.stringify({ entries: store.size, firstMs, medianMs: median(times), heapBytesPerConnection: gc ? (heapAfter - heapBefore) / store.size : null, storeBytesPerConnection: store.byteSize / store.size }) + '\n');
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(): Promise<void> {
  const cluster = await NetnsCluster.create({
    nodes: [{ name: 'bench' }],
    ipv6: false,
    nftRuleset: () =>
      'table inet fvt {\n  chain output {\n    type filter hook output priority 0; policy accept;\n    ct state new accept\n  }\n}\n',
  });
  try {
    const node = cluster.node('bench');
    await cluster.sh(
      'bench',
      `sysctl -qw net.netfilter.nf_conntrack_max=262144 2>/dev/null || true
sysctl -qw net.netfilter.nf_conntrack_udp_timeout=600 net.netfilter.nf_conntrack_udp_timeout_stream=600
ip neigh add ${NEXT_HOP} lladdr 02:00:00:00:00:c8 dev eth0 nud permanent
ip route add ${TARGET_NET} via ${NEXT_HOP}`,
    );
    const max = Number((await cluster.exec('bench', ['sysctl', '-n', 'net.netfilter.nf_conntrack_max'])).stdout);
    note(`nf_conntrack_max in the namespace: ${max}`);

    let filled = 0;
    for (const size of SIZES) {
      if (size > max) {
        note(`skipping ${size}: above nf_conntrack_max`);
        continue;
      }
      const t0 = performance.now();
      await cluster.exec(
        'bench',
        ['node', '--import', 'tsx', 'bench/conntrack.ts', '--fill', String(filled), String(size), node.ipv4, '40000'],
        { timeoutMs: 120_000 },
      );
      filled = size;
      const count = Number((await cluster.exec('bench', ['sysctl', '-n', 'net.netfilter.nf_conntrack_count'])).stdout);
      note(`filled ${size} destinations in ${Math.round(performance.now() - t0)} ms; table holds ${count}`);

      const ours = await cluster.exec(
        'bench',
        ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--bench-runs', String(RUNS[size])],
        { timeoutMs: 120_000 },
      );
      const b = (JSON.parse(ours.stdout) as { bench: { entries: number; medianMs: number; msPerRun: number[] } }).bench;
      const cli = await cluster.sh(
        'bench',
        `for i in $(seq ${CLI_RUNS[size]}); do s=$(date +%s%N); conntrack -L -o xml >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done`,
        { timeoutMs: 120_000 },
      );
      const xmlMs = median(cli.stdout.trim().split('\n').map(Number)) / 1000;
      const oursPerEntry = (b.medianMs * 1000) / b.entries;
      const xmlPerEntry = (xmlMs * 1000) / b.entries;
      note(`${b.entries} entries: netlink ${b.medianMs.toFixed(1)} ms (runs ${b.msPerRun.map((x) => x.toFixed(0)).join(', ')}), conntrack -L -o xml ${xmlMs.toFixed(1)} ms`);
      const label = `${size / 1000}k`;
      report({
        bench: `conntrack.poll_us_per_entry_${label}`,
        value: oursPerEntry,
        unit: 'us/entry',
        baseline: 'conntrack -L -o xml',
        ratio: oursPerEntry / xmlPerEntry,
      });
      if (size === 250_000) {
        report({
          bench: 'conntrack.poll_ms_250k',
          value: b.medianMs,
          unit: 'ms',
          baseline: 'conntrack -L -o xml',
          ratio: b.medianMs / xmlMs,
        });
        const agent = await cluster.exec(
          'bench',
          ['node', '--expose-gc', '--import', 'tsx', 'bench/conntrack.ts', '--agent-poll', '5'],
          { timeoutMs: 180_000 },
        );
        const a = JSON.parse(agent.stdout) as { entries: number; firstMs: number; medianMs: number; heapBytesPerConnection: number | null; storeBytesPerConnection: number };
        note(`agent poll of ${a.entries} tracked connections: first (inserting) ${a.firstMs.toFixed(0)} ms, then median ${a.medianMs.toFixed(0)} ms`);
        report({ bench: 'exporter.poll_ms_250k', value: a.medianMs, unit: 'ms', baseline: 'conntrack -L -o xml', ratio: a.medianMs / xmlMs });
        report({ bench: 'exporter.poll_us_per_entry_250k', value: (a.medianMs * 1000) / a.entries, unit: 'us/entry', baseline: 'conntrack -L -o xml', ratio: (a.medianMs * 1000) / a.entries / xmlPerEntry });
        report({ bench: 'exporter.first_poll_ms_250k', value: a.firstMs, unit: 'ms', baseline: 'conntrack -L -o xml', ratio: a.firstMs / xmlMs });
        if (a.heapBytesPerConnection !== null) {
          report({ bench: 'exporter.heap_bytes_per_connection', value: a.heapBytesPerConnection, unit: 'bytes', baseline: 'Antrea BenchmarkConnStore 20.5 MB / 10k conns (2050 B)', ratio: a.heapBytesPerConnection / 2050 });
        }
        const objects = await cluster.exec(
          'bench',
          ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--bench-runs', '3', '--bench-mode', 'entries'],
          { timeoutMs: 120_000 },
        );
        const o = (JSON.parse(objects.stdout) as { bench: { entries: number; medianMs: number } }).bench;
        report({
          bench: 'conntrack.dump_all_objects_us_per_entry_250k',
          value: (o.medianMs * 1000) / o.entries,
          unit: 'us/entry',
          baseline: 'conntrack -L -o xml',
          ratio: (o.medianMs * 1000) / o.entries / xmlPerEntry,
        });
      }
    }
  } finally {
    await cluster.destroy();
  }
}

if (isMain(import.meta)) {
  const i = process.argv.indexOf('--fill');
  const agentAt = process.argv.indexOf('--agent-poll');
  if (agentAt >= 0) {
    await agentPoll(Number(process.argv[agentAt + 1]));
  } else if (i >= 0) {
    const [from, to, address, port] = process.argv.slice(i + 1, i + 5);
    await fill(Number(from), Number(to), address, Number(port));
  } else {
    await run();
  }
}
