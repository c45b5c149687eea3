/**
 * Our IPFIX collector (`flowvis collector --output json`) run inside a namespace of the cluster
 * (e.g. "agg" on 10.0.0.254), and its JSON lines read back as flow records.
 */
import type { NetnsCluster } from '../netns/cluster.ts';
import type { ManagedProcess } from '../netns/exec.ts';
import { parseRecordLine, summarize, type FlowRecord } from './flow-records.ts';
import { pollUntil } from './poll.ts';

export interface CollectorProcessOptions {
  /** Logical namespace name (default "agg"). */
  namespace?: string;
  /** Listening address (default: the aggregator's underlay IPv4 address). */
  address?: string;
  port?: number;
  proto?: 'tcp' | 'udp';
  /** Also serve GET /records on this port. */
  httpPort?: number;
  startTimeoutMs?: number;
}

export class CollectorProcess {
  private parsedUpTo = 0;
  private readonly parsed: FlowRecord[] = [];

  private constructor(
    readonly process: ManagedProcess,
    readonly address: string,
    readonly port: number,
    readonly proto: 'tcp' | 'udp',
  ) {}

  /** Starts the collector and waits until it listens. The process is killed by `cluster.destroy()`. */
  static async start(cluster: NetnsCluster, o: CollectorProcessOptions = {}): Promise<CollectorProcess> {
    const address = o.address ?? cluster.aggregator?.ipv4;
    if (address === undefined) throw new Error('collector: give an address (the cluster has no aggregator namespace)');
    const port = o.port ?? 4739;
    const proto = o.proto ?? 'tcp';
    const argv = ['bin/flowvis', 'collector', '--address', address, '--port', String(port), '--proto', proto, '--output', 'json'];
    if (o.httpPort !== undefined) argv.push('--http-port', String(o.httpPort), '--http-address', address);
    const proc = cluster.spawn(o.namespace ?? 'agg', argv);
    await proc.waitForOutput(/IPFIX collector listening/, o.startTimeoutMs ?? 20_000, 'stderr');
    return new CollectorProcess(proc, address, port, proto);
  }

  /** `flowCollectorAddr` for agents: "IP:PORT:PROTO". */
  get flowCollectorAddr(): string {
    const host = this.address.includes(':') ? `[${this.address}]` : this.address;
    return `${host}:${this.port}:${this.proto}`;
  }

  /** Every record printed so far, in output order. */
  records(): FlowRecord[] {
    const out = this.process.stdout;
    let nl = out.indexOf('\n', this.parsedUpTo);
    while (nl >= 0) {
      const line = out.slice(this.parsedUpTo, nl).trim();
      this.parsedUpTo = nl + 1;
      if (line.startsWith('{')) this.parsed.push(parseRecordLine(line, this.parsed.length));
      nl = out.indexOf('\n', this.parsedUpTo);
    }
    return this.parsed;
  }

  /** Waits until `enough(matching records)` holds; returns the matching records. */
  async waitForRecords(
    filter: (r: FlowRecord) => boolean,
    what: string,
    o: { timeoutMs?: number; enough?: (matching: FlowRecord[]) => boolean } = {},
  ): Promise<FlowRecord[]> {
    const enough = o.enough ?? ((m) => m.length > 0);
    return pollUntil(() => {
      const m = this.records().filter(filter);
      return enough(m) ? m : undefined;
    }, {
      timeoutMs: o.timeoutMs ?? 15_000,
      intervalMs: 100,
      what,
      describe: () => `records so far:\n${this.records().map(summarize).join('\n')}\ncollector stderr:\n${this.process.stderr.slice(-2000)}`,
    });
  }

  async stop(): Promise<void> {
    await this.process.kill();
  }
}
