/**
 * pmacctd (pmacct 1.7) as a live IPFIX exporter: it captures packets on an interface with libpcap,
 * builds flows (nfprobe plugin, derived from softflowd) and exports them as IPFIX over UDP.
 * Its templates use reduced-size encoding (tcpControlBits in 1 octet) and millisecond time stamps.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Daemon } from './process.ts';
import { NetnsPair } from './netns.ts';

export interface PmacctdOptions {
  netns: string;
  iface: string;
  /** Collector address "host:port" (IPv6 as "[addr]:port"). */
  receiver: string;
  /** Path of the configuration file to write. */
  configFile: string;
  /** Observation domain ID of the export. */
  observationDomainId?: number;
  /** nfprobe_timeouts, e.g. "tcp=1:udp=1:icmp=1:general=1:expint=1" (seconds). */
  timeouts?: string;
  /** Flow keys and fields (pmacct primitives). */
  aggregate?: string;
}

export function pmacctdConfig(o: PmacctdOptions): string {
  return [
    'daemonize: false',
    `pcap_interface: ${o.iface}`,
    'plugins: nfprobe[ipfix]',
    `nfprobe_receiver[ipfix]: ${o.receiver}`,
    'nfprobe_version[ipfix]: 10',
    `nfprobe_engine[ipfix]: ${o.observationDomainId ?? 0}`,
    `nfprobe_timeouts[ipfix]: ${o.timeouts ?? 'tcp=1:tcp.rst=1:tcp.fin=1:udp=1:icmp=1:general=1:expint=1'}`,
    `aggregate[ipfix]: ${o.aggregate ?? 'src_host, dst_host, src_port, dst_port, proto, tos, tcpflags'}`,
    '',
  ].join('\n');
}

/** pmacctd's process and the plugin processes it forked, stopped together by their IDs. */
export class Pmacctd {
  private constructor(private readonly core: Daemon) {}

  static async start(o: PmacctdOptions): Promise<Pmacctd> {
    writeFileSync(o.configFile, pmacctdConfig(o));
    const core = await Daemon.start('ip', NetnsPair.execArgs(o.netns, 'pmacctd', ['-f', o.configFile]), {
      // The capture is open once the link type is logged; the plugin logs its collector.
      ready: /link type is[\s\S]*Exporting flows to|Exporting flows to[\s\S]*link type is/,
      readyTimeoutMs: 10_000,
    });
    return new Pmacctd(core);
  }

  get log(): string {
    return this.core.log;
  }

  /** Stops the core process (which stops its plugins), then any plugin process still alive. */
  async stop(): Promise<void> {
    const pid = this.core.pid;
    const children = pid === undefined ? [] : childPids(pid);
    await this.core.stop('SIGTERM', 3000);
    for (const child of children) {
      if (!isPmacctd(child)) continue; // exited (its ID may belong to another process by now)
      try { process.kill(child, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function isPmacctd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'pmacctd';
  } catch {
    return false;
  }
}
