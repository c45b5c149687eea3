/**
 * A small command-line dumper of the conntrack table of the network namespace it runs in
 * (a process only sees its own namespace's table: run it with `ip netns exec NS node --import tsx
 * src/conntrack/dump-cli.ts ...`). Used by end-to-end tests and the benchmark.
 *
 *   --json               one JSON object per entry and line (64-bit values as decimal strings)
 *   --stats              a final JSON line {"stats":{visited,received,malformed,durationMs}}
 *   --zone N             only entries of conntrack zone N
 *   --family F           ipv4 | ipv6 | all (default all)
 *   --source S           netlink (default) | conntrack-cli | auto
 *   --raw                print every netlink datagram of the dump as one hex line (fixture capture)
 *   --bench-runs N       dump N times reading every field of every entry (no per-entry output) and
 *                        print {"bench":{runs,entries,msPerRun:[...],medianMs}}
 *   --bench-mode M       view (default: read fields through the reused view) | entries (build a
 *                        ConntrackEntry object per entry, as dumpAll does)
 * Other modes (instead of a dump):
 *   --events             print conntrack events as {"event":"new|update|destroy","entry":{...}} lines
 *                        until killed (prints {"ready":true} once subscribed)
 *   --nflog GROUP        print NFLOG packets of GROUP as {"nflog":{...}} lines until killed
 *                        (prints {"ready":true} once bound)
 *   --sysctls            enable nf_conntrack_acct/timestamp and print
 *                        {"sysctls":{warnings,max,count}}
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConntrackError } from '../errors.ts';
import { AddressSlot, type ConntrackEntry, type ConntrackEntryView } from './entry.ts';
import { ConntrackEventListener } from './events.ts';
import { createConntrackSource } from './factory.ts';
import { NflogListener, type NflogPacket } from './nflog.ts';
import { enableConntrackAccounting, readConntrackCount, readConntrackMax } from './sysctl.ts';
import type { ConntrackSource, DumpFamily, DumpOptions, DumpStats } from './source.ts';

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  return value;
}

/** JSON of an entry with bigints as decimal strings and labels as hex. */
export function entryToJson(entry: ConntrackEntry): string {
  return JSON.stringify(entry, jsonReplacer);
}

/** JSON of an NFLOG packet with the timestamp as a decimal string. */
export function nflogToJson(packet: NflogPacket): string {
  return JSON.stringify({ nflog: packet }, jsonReplacer);
}

function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs until SIGTERM/SIGINT, then closes `close` and exits. */
function untilSignal(close: () => void): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      close();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

async function watchEvents(): Promise<void> {
  const listener = await ConntrackEventListener.open({
    onEvent: (type, view) => printLine(`{"event":"${type}","entry":${entryToJson(view.toEntry())}}`),
    onError: (err) => printLine(JSON.stringify({ error: { code: err.code, message: err.message } })),
  });
  printLine('{"ready":true}');
  await untilSignal(() => listener.close());
}

async function watchNflog(group: number): Promise<void> {
  const listener = await NflogListener.open({
    group,
    onPacket: (p) => printLine(nflogToJson(p)),
    onError: (err) => printLine(JSON.stringify({ error: { code: err.code, message: err.message } })),
  });
  printLine('{"ready":true}');
  await untilSignal(() => listener.close());
}

async function sysctls(): Promise<void> {
  const warnings = await enableConntrackAccounting();
  const max = await readConntrackMax();
  const count = await readConntrackCount();
  printLine(JSON.stringify({ sysctls: { warnings, max, count } }));
}

/** Reads every field a connection store needs, the way one would: numbers, no strings. */
function touchEntry(v: ConntrackEntryView, scratch: Uint8Array): number {
  let h = v.protocol ^ v.origSrcPort ^ v.origDstPort ^ v.replySrcPort ^ v.replyDstPort ^ v.status ^ v.mark;
  h ^= v.zone ^ v.id ^ v.timeout ^ v.tcpStateCode;
  if (v.family === 'ipv4') {
    h ^= v.ipv4(AddressSlot.OrigSrc) ^ v.ipv4(AddressSlot.OrigDst) ^ v.ipv4(AddressSlot.ReplySrc);
  } else {
    v.copyAddress(AddressSlot.OrigSrc, scratch, 0);
    v.copyAddress(AddressSlot.OrigDst, scratch, 16);
    v.copyAddress(AddressSlot.ReplySrc, scratch, 32);
    h ^= scratch[15] ^ scratch[31] ^ scratch[47];
  }
  const sum = v.origPackets + v.origBytes + v.replyPackets + v.replyBytes + v.startTime + v.stopTime;
  return h ^ Number(sum & 0xffn);
}

/** Dumps `runs` times and prints {"bench":{runs,entries,msPerRun,medianMs}}. */
async function benchDumps(source: ConntrackSource, options: DumpOptions, runs: number, objects: boolean): Promise<void> {
  const scratch = new Uint8Array(48);
  const msPerRun: number[] = [];
  let entries = 0;
  let sink = 0;
  for (let i = 0; i < runs; i++) {
    const kept: ConntrackEntry[] = [];
    const t0 = performance.now();
    const stats = await source.dump(
      objects
        ? (v) => {
            kept.push(v.toEntry());
          }
        : (v) => {
            sink ^= touchEntry(v, scratch);
          },
      options,
    );
    msPerRun.push(performance.now() - t0);
    entries = stats.visited;
    sink ^= kept.length;
  }
  const sorted = [...msPerRun].sort((a, b) => a - b);
  const medianMs = sorted[Math.floor(sorted.length / 2)];
  printLine(JSON.stringify({ bench: { runs, entries, msPerRun, medianMs, sink: sink & 1 } }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      stats: { type: 'boolean', default: false },
      zone: { type: 'string' },
      family: { type: 'string', default: 'all' },
      source: { type: 'string', default: 'netlink' },
      'bench-runs': { type: 'string' },
      'bench-mode': { type: 'string', default: 'view' },
      events: { type: 'boolean', default: false },
      nflog: { type: 'string' },
      sysctls: { type: 'boolean', default: false },
      raw: { type: 'boolean', default: false },
    },
  });
  if (values.events) return watchEvents();
  if (values.nflog !== undefined) return watchNflog(Number(values.nflog));
  if (values.sysctls) return sysctls();
  const family = values.family as DumpFamily;
  if (!['ipv4', 'ipv6', 'all'].includes(family)) throw new Error(`--family must be ipv4, ipv6 or all`);
  const options: DumpOptions = { family };
  if (values.zone !== undefined) options.zone = Number(values.zone);
  const prefer = values.source === 'auto' ? undefined : (values.source as 'netlink' | 'conntrack-cli');
  const tap = values.raw ? (d: Buffer) => printLine(d.toString('hex')) : undefined;
  const { source } = await createConntrackSource({ prefer, only: prefer !== undefined, netlink: { tap } });
  try {
    if (values['bench-runs'] !== undefined) {
      await benchDumps(source, options, Number(values['bench-runs']), values['bench-mode'] === 'entries');
      return;
    }
    const out: string[] = [];
    const stats: DumpStats = await source.dump((v) => {
      if (values.json) out.push(entryToJson(v.toEntry()));
    }, options);
    if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
    if (values.stats) {
      const { lastError: _e, ...rest } = stats;
      process.stdout.write(`${JSON.stringify({ stats: { ...rest, source: source.kind } })}\n`);
    }
  } finally {
    source.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    const code = err instanceof ConntrackError ? err.code : 'ERROR';
    process.stderr.write(`dump-cli: ${code}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
