/** tcpdump writing a pcap file (packet-buffered, so the file is readable while it runs). */
import { Daemon } from './process.ts';
import { NetnsPair } from './netns.ts';

export interface CaptureOptions {
  /** Namespace to capture in; the host's when omitted. */
  netns?: string;
  iface: string;
  /** A pcap filter expression, e.g. "udp port 4739". */
  filter: string;
  file: string;
}

/** Starts tcpdump and resolves once it is capturing. Stop it with `stop('SIGINT')` to flush the file. */
export function startCapture(o: CaptureOptions): Promise<Daemon> {
  // -Z root: keep writing to a directory only root may write to; -U: write each packet at once.
  const args = ['-i', o.iface, '-n', '-U', '-s', '0', '-Z', 'root', '-w', o.file, ...o.filter.split(/\s+/)];
  return o.netns
    ? Daemon.start('ip', NetnsPair.execArgs(o.netns, 'tcpdump', args), { ready: /listening on/ })
    : Daemon.start('tcpdump', args, { ready: /listening on/ });
}
