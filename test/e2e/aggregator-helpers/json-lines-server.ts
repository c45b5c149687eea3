/**
 * A plain TCP listener for the aggregator's JSON-lines output (flowCollector.recordFormat JSON),
 * run inside a namespace of the cluster. Each line the aggregator sends is, as go-ipfix writes it:
 *
 *   {"@timestamp":"2024-01-02T03:04:05Z","ipfix":{"<ieName>":<value>,...}}\n
 *
 * The listener is a few lines of Node (no project code, so it checks the wire independently): it
 * prints complete lines only, whatever the TCP segmentation, and logs connections on stderr.
 */
import type { NetnsCluster } from '../netns/cluster.ts';
import type { ManagedProcess } from '../netns/exec.ts';
import type { FieldValue } from '../exporter-helpers/flow-records.ts';
import { pollUntil } from '../exporter-helpers/poll.ts';
import { parseJsonExact } from './exact-json.ts';

const SERVER_JS = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const server = net.createServer((sock) => {
  const peer = sock.remoteAddress + ':' + sock.remotePort;
  process.stderr.write('connection from ' + peer + '\\n');
  let pending = '';
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    pending += d;
    const nl = pending.lastIndexOf('\\n');
    if (nl >= 0) { process.stdout.write(pending.slice(0, nl + 1)); pending = pending.slice(nl + 1); }
  });
  sock.on('close', () => process.stderr.write('closed ' + peer + (pending ? ' with a partial line: ' + JSON.stringify(pending) : '') + '\\n'));
  sock.on('error', (e) => process.stderr.write('error ' + peer + ' ' + e.message + '\\n'));
});
server.listen({ host, port: Number(port) }, () => process.stderr.write('listening on ' + host + ':' + port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

/** One JSON line: its @timestamp and the elements by name (64-bit integers exact). */
export interface JsonLineRecord {
  timestamp: string;
  data: Record<string, FieldValue>;
  /** Keys of "ipfix" in the order they were written. */
  keys: string[];
  /** The line as received. */
  raw: string;
  seq: number;
}

/** Parses one line; throws when it is not `{"@timestamp":..., "ipfix":{...}}` exactly. */
export function parseJsonLine(line: string, seq: number): JsonLineRecord {
  const v = parseJsonExact(line) as Record<string, unknown>;
  const top = Object.keys(v);
  if (top.length !== 2 || top[0] !== '@timestamp' || top[1] !== 'ipfix') throw new Error(`unexpected top-level keys ${JSON.stringify(top)}: ${line}`);
  const ipfix = v.ipfix as Record<string, FieldValue>;
  return { timestamp: String(v['@timestamp']), data: ipfix, keys: Object.keys(ipfix), raw: line, seq };
}

export class JsonLinesServer {
  private parsedUpTo = 0;
  private readonly parsed: JsonLineRecord[] = [];

  private constructor(readonly process: ManagedProcess, readonly address: string, readonly port: number) {}

  static async start(cluster: NetnsCluster, o: { namespace?: string; address?: string; port: number }): Promise<JsonLinesServer> {
    const address = o.address ?? cluster.aggregator?.ipv4;
    if (address === undefined) throw new Error('JSON-lines server: give an address');
    const proc = cluster.spawn(o.namespace ?? 'agg', ['node', '-e', SERVER_JS, address, String(o.port)]);
    await proc.waitForOutput(/listening on/, 10_000, 'stderr');
    return new JsonLinesServer(proc, address, o.port);
  }

  /** flowCollector.address for the aggregator: "IP:PORT:tcp". */
  get collectorAddress(): string {
    return `${this.address.includes(':') ? `[${this.address}]` : this.address}:${this.port}:tcp`;
  }

  /** Every line received so far, parsed, in arrival order. */
  records(): JsonLineRecord[] {
    const out = this.process.stdout;
    let nl = out.indexOf('\n', this.parsedUpTo);
    while (nl >= 0) {
      const line = out.slice(this.parsedUpTo, nl);
      this.parsedUpTo = nl + 1;
      if (line.trim() !== '') this.parsed.push(parseJsonLine(line, this.parsed.length));
      nl = out.indexOf('\n', this.parsedUpTo);
    }
    return this.parsed;
  }

  async waitForRecords(filter: (r: JsonLineRecord) => boolean, what: string, o: { timeoutMs?: number; enough?: (m: JsonLineRecord[]) => boolean } = {}): Promise<JsonLineRecord[]> {
    const enough = o.enough ?? ((m) => m.length > 0);
    return pollUntil(() => {
      const m = this.records().filter(filter);
      return enough(m) ? m : undefined;
    }, {
      timeoutMs: o.timeoutMs ?? 20_000, intervalMs: 100, what,
      describe: () => `${this.records().length} lines so far; listener stderr:\n${this.process.stderr.slice(-1500)}`,
    });
  }

  async stop(): Promise<void> {
    await this.process.kill();
  }
}
