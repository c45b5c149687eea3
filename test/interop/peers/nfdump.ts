/**
 * nfdump 1.7 as a real IPFIX collector: nfcapd receives IPFIX over UDP and stores flows in a
 * directory (the current file is written when nfcapd stops); `nfdump -R dir -o json` lists them.
 */
import { createSocket } from 'node:dgram';
import { Daemon, run } from './process.ts';

/**
 * Starts nfcapd on 127.0.0.1:`port` storing into `dir`; resolves once it listens. It prints every
 * flow it stores (-E), which flowsReceived() counts. Stop it with SIGTERM to write the file.
 */
export function startNfcapd(dir: string, port: number): Promise<Daemon> {
  // stdbuf: line-buffered stdout, so each flow shows up as it is stored (stdbuf execs nfcapd: same process).
  return Daemon.start('stdbuf', ['-oL', 'nfcapd', '-E', '-b', '127.0.0.1', '-p', String(port), '-w', dir], { ready: /Startup nfcapd/, env: { ...process.env, TZ: 'UTC' } });
}

/** Flows nfcapd has stored so far, from its -E output. */
export function flowsReceived(nfcapd: Daemon): number {
  return nfcapd.log.match(/^Flow Record:/gm)?.length ?? 0;
}

/** One flow as `nfdump -o json` prints it (the fields used by tests). */
export interface NfdumpFlow {
  proto: number;
  src_port: number;
  dst_port: number;
  src4_addr?: string;
  dst4_addr?: string;
  src6_addr?: string;
  dst6_addr?: string;
  in_packets: number;
  in_bytes: number;
  out_packets?: number;
  out_bytes?: number;
  [field: string]: unknown;
}

/** Every flow stored under `dir`. */
export async function nfdumpFlows(dir: string): Promise<NfdumpFlow[]> {
  const r = await run('nfdump', ['-R', dir, '-o', 'json'], { timeoutMs: 30_000, env: { ...process.env, TZ: 'UTC' } });
  const text = r.stdout.trim();
  return text === '' ? [] : (JSON.parse(text) as NfdumpFlow[]);
}

/** A UDP port on 127.0.0.1 that was free a moment ago. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Sends each message as one datagram to 127.0.0.1:`port`, in order. */
export async function sendDatagrams(messages: readonly Buffer[], port: number): Promise<void> {
  const s = createSocket('udp4');
  try {
    for (const m of messages) {
      await new Promise<void>((resolve, reject) => s.send(m, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
    }
  } finally {
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
