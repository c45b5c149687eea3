/**
 * Reading a namespace's conntrack table from tests: through the project's dumper
 * (src/conntrack/dump-cli.ts, run inside the namespace) and through conntrack-tools'
 * `conntrack -L -o extended` as an independent reference.
 */
import type { ConntrackEntry } from '../../../src/conntrack/entry.ts';
import { execIn } from './exec.ts';

/** Converts one JSON line of dump-cli (64-bit values as decimal strings) back to an entry. */
export function entryFromJson(line: string): ConntrackEntry {
  const raw = JSON.parse(line) as Record<string, unknown>;
  const big = (k: string): bigint => BigInt(raw[k] as string);
  return {
    ...(raw as unknown as ConntrackEntry),
    origPackets: big('origPackets'),
    origBytes: big('origBytes'),
    replyPackets: big('replyPackets'),
    replyBytes: big('replyBytes'),
    startTime: big('startTime'),
    stopTime: big('stopTime'),
    labels: raw.labels === null ? null : Buffer.from(raw.labels as string, 'hex'),
  };
}

/**
 * Dumps the conntrack table of namespace `ns` with the project's netlink dumper.
 * @param args extra dump-cli arguments, e.g. ['--zone', '7'] or ['--source', 'conntrack-cli']
 */
export async function dumpConntrackIn(ns: string, args: readonly string[] = []): Promise<ConntrackEntry[]> {
  const r = await execIn(ns, ['node', '--import', 'tsx', 'src/conntrack/dump-cli.ts', '--json', ...args], {
    timeoutMs: 60_000,
  });
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map(entryFromJson);
}

const TUPLE_KEYS = new Set(['src', 'dst', 'sport', 'dport', 'packets', 'bytes', 'type', 'code', 'id']);

/** One line of `conntrack -L -o extended` as key/value pairs per direction. */
export interface ExtendedConntrackLine {
  family: 'ipv4' | 'ipv6';
  protocol: number;
  timeout: number;
  /** TCP state word ("ESTABLISHED", ...) or "" */
  state: string;
  original: Record<string, string>;
  reply: Record<string, string>;
  /** Keys after the reply tuple (mark, zone, use, id, ...) */
  extra: Record<string, string>;
  flags: string[];
  raw: string;
}

/**
 * Parses `conntrack -L -o extended,id -f ipv4|ipv6` of namespace `ns`:
 *   "ipv4 2 tcp 6 431999 ESTABLISHED src=.. dst=.. sport=.. dport=.. packets=.. bytes=.. src=.. ..."
 * Keys repeat for the reply direction: the second `src=` starts the reply tuple.
 */
export async function listConntrackExtended(ns: string, family: 'ipv4' | 'ipv6'): Promise<ExtendedConntrackLine[]> {
  const r = await execIn(ns, ['conntrack', '-L', '-o', 'extended,id', '-f', family]);
  const out: ExtendedConntrackLine[] = [];
  for (const raw of r.stdout.split('\n')) {
    const words = raw.trim().split(/\s+/);
    if (words.length < 6 || (words[0] !== 'ipv4' && words[0] !== 'ipv6')) continue;
    const line: ExtendedConntrackLine = {
      family: words[0],
      protocol: Number(words[3]),
      timeout: Number(words[4]),
      state: '',
      original: {},
      reply: {},
      extra: {},
      flags: [],
      raw,
    };
    // phase 0: original tuple, 1: reply tuple, 2: trailing keys (mark, zone, use, id, ...)
    let phase = 0;
    for (const w of words.slice(5)) {
      if (w.startsWith('[')) {
        line.flags.push(w.replace(/[[\]]/g, ''));
        continue;
      }
      const eq = w.indexOf('=');
      if (eq < 0) {
        if (phase === 0 && Object.keys(line.original).length === 0) line.state = w;
        continue;
      }
      const k = w.slice(0, eq);
      const v = w.slice(eq + 1);
      if (phase === 0 && k === 'src' && 'src' in line.original) phase = 1;
      if (phase < 2 && !TUPLE_KEYS.has(k)) phase = 2;
      (phase === 0 ? line.original : phase === 1 ? line.reply : line.extra)[k] = v;
    }
    out.push(line);
  }
  return out;
}
