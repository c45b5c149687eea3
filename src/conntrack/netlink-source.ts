/**
 * Conntrack table dumps over ctnetlink.
 *
 * Request:  nlmsghdr { type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
 *                      flags = NLM_F_REQUEST | NLM_F_DUMP, seq }
 *           nfgenmsg { family = AF_UNSPEC | AF_INET | AF_INET6 }  [CTA_ZONE be16]
 * Reply:    datagrams of IPCTNL_MSG_CT_NEW messages (NLM_F_MULTI, same seq), ended by NLMSG_DONE;
 *           NLMSG_ERROR { -errno } instead when the request fails.
 *
 * One socket per source, one dump at a time (the kernel refuses a second dump on a socket while
 * one runs). Entries are parsed into one reused view and handed to the visitor.
 */
import { ConntrackError } from '../errors.ts';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  CTA_ZONE,
  IPCTNL_MSG_CT_DELETE,
  IPCTNL_MSG_CT_GET,
  IPCTNL_MSG_CT_NEW,
  NFNL_SUBSYS_CTNETLINK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
} from './constants.ts';
import { dataViewOf, NetlinkEntryView, parseConntrackMessage } from './ct-parser.ts';
import type { ConntrackEntry } from './entry.ts';
import { nfnlMessage, nlattrBe16 } from './netlink-writer.ts';
import {
  netlinkErrnoError,
  nlmsgErrorCode,
  nlmsgLength,
  openNetfilterSocket,
  type RawNetlinkSocket,
} from './netlink-socket.ts';
import type { ConntrackSource, ConntrackVisitor, DumpFamily, DumpOptions, DumpStats } from './source.ts';

const CT_NEW = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
const CT_DELETE = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
const CT_GET = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;

/** Per-datagram receive buffer for dumps: the kernel never packs more than 32 KiB per datagram. */
const DUMP_MESSAGE_BUFFER = 64 * 1024;

export interface NetlinkSourceOptions {
  /** A dump that has not finished after this many milliseconds fails (default 60 000). */
  timeoutMs?: number;
  /** SO_RCVBUF in bytes (default 8 MiB, capped by net.core.rmem_max). */
  receiveBufferSize?: number;
  /** Millisecond clock used for DumpStats.durationMs (default performance.now). */
  clock?: () => number;
  /** Called with every datagram received during a dump, before parsing (to capture fixtures). */
  tap?: (datagram: Buffer) => void;
}

/** Totals over the life of a source (for metrics). */
export interface NetlinkSourceTotals {
  dumps: number;
  entries: number;
  malformed: number;
  failures: number;
}

interface PendingDump {
  seq: number;
  visitor: ConntrackVisitor;
  zone: number;
  stats: DumpStats;
  started: number;
  /** An exception thrown by the visitor: the dump drains to NLMSG_DONE, then rejects with it. */
  visitorError: unknown;
  resolve: (stats: DumpStats) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

const FAMILY_CODES: Record<DumpFamily, number> = { all: AF_UNSPEC, ipv4: AF_INET, ipv6: AF_INET6 };

/** Builds the ctnetlink dump request (exported for tests). */
export function buildDumpRequest(seq: number, family: DumpFamily, zone?: number): Buffer {
  const attrs = zone === undefined ? [] : [nlattrBe16(CTA_ZONE, zone)];
  return nfnlMessage({ type: CT_GET, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, family: FAMILY_CODES[family] }, attrs);
}

/** True for the message types that carry a conntrack entry (dump replies and events). */
export function isConntrackEntryMessage(type: number): boolean {
  return type === CT_NEW || type === CT_DELETE;
}

export class NetlinkConntrackSource implements ConntrackSource {
  readonly kind = 'netlink' as const;
  readonly totals: NetlinkSourceTotals = { dumps: 0, entries: 0, malformed: 0, failures: 0 };
  private sock: RawNetlinkSocket | null;
  private needsReopen = false;
  private closed = false;
  private pending: PendingDump | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private readonly view = new NetlinkEntryView();
  private readonly timeoutMs: number;
  private readonly clock: () => number;

  private constructor(
    sock: RawNetlinkSocket,
    private readonly options: NetlinkSourceOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.clock = options.clock ?? (() => performance.now());
    this.sock = sock;
    this.attach(sock);
  }

  /**
   * Opens the ctnetlink socket.
   * @throws ConntrackError NETLINK_UNAVAILABLE when netlink sockets cannot be created here.
   */
  static async open(options: NetlinkSourceOptions = {}): Promise<NetlinkConntrackSource> {
    const sock = await openNetfilterSocket({
      messageBufferSize: DUMP_MESSAGE_BUFFER,
      receiveBufferSize: options.receiveBufferSize,
    });
    return new NetlinkConntrackSource(sock, options);
  }

  private attach(sock: RawNetlinkSocket): void {
    sock.unref();
    sock.on('message', (buf) => this.onDatagram(buf));
    sock.on('truncatedMessage', (_buf, rinfo) =>
      this.fail(
        new ConntrackError('NETLINK_TRUNCATED', `netlink datagram of ${rinfo.truncated} bytes truncated`, {
          length: rinfo.truncated,
        }),
      ),
    );
    sock.on('error', (err) =>
      this.fail(
        new ConntrackError('NETLINK_RECV', `netlink receive failed: ${err.message}`, { errno: err.errno }, { cause: err }),
      ),
    );
  }

  dump(visitor: ConntrackVisitor, options: DumpOptions = {}): Promise<DumpStats> {
    const run = this.queue.then(() => this.runDump(visitor, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dumpAll(options: DumpOptions = {}): Promise<ConntrackEntry[]> {
    const entries: ConntrackEntry[] = [];
    await this.dump((view) => {
      entries.push(view.toEntry());
    }, options);
    return entries;
  }

  close(): void {
    this.closed = true;
    this.fail(new ConntrackError('SOURCE_CLOSED', 'conntrack source closed'));
    this.sock?.close();
    this.sock = null;
  }

  private async socket(): Promise<RawNetlinkSocket> {
    if (this.closed) throw new ConntrackError('SOURCE_CLOSED', 'conntrack source closed');
    if (this.needsReopen || this.sock === null) {
      this.sock?.close();
      this.sock = null;
      const sock = await openNetfilterSocket({
        messageBufferSize: DUMP_MESSAGE_BUFFER,
        receiveBufferSize: this.options.receiveBufferSize,
      });
      this.attach(sock);
      this.sock = sock;
      this.needsReopen = false;
    }
    return this.sock;
  }

  private async runDump(visitor: ConntrackVisitor, options: DumpOptions): Promise<DumpStats> {
    const sock = await this.socket();
    const family = options.family ?? 'all';
    if (!(family in FAMILY_CODES)) {
      throw new ConntrackError('DUMP_OPTIONS', `unknown dump family ${String(family)}`, { family: String(family) });
    }
    if (options.zone !== undefined && !(Number.isInteger(options.zone) && options.zone >= 0 && options.zone <= 0xffff)) {
      throw new ConntrackError('DUMP_OPTIONS', `zone must be an integer 0..65535, got ${options.zone}`, {
        zone: options.zone,
      });
    }
    const zone = options.zone ?? -1;
    const seq = (this.seq = (this.seq + 1) >>> 0);
    return new Promise<DumpStats>((resolve, reject) => {
      const pending: PendingDump = {
        seq,
        visitor,
        zone,
        stats: { visited: 0, received: 0, malformed: 0, lastError: undefined, durationMs: 0 },
        started: this.clock(),
        visitorError: undefined,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.fail(new ConntrackError('DUMP_TIMEOUT', `conntrack dump did not finish in ${this.timeoutMs} ms`));
        }, this.timeoutMs),
      };
      this.pending = pending;
      sock.send(buildDumpRequest(seq, family, options.zone), {}, (err) => {
        if (err) {
          this.fail(new ConntrackError('NETLINK_SEND', `dump request failed: ${err.message}`, { errno: err.errno }));
        }
      });
    });
  }

  /**
   * Rejects the running dump, if any. Unless the kernel refused the request outright, a dump may
   * still be running in the kernel: the socket is replaced before the next dump.
   */
  private fail(err: ConntrackError): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    if (err.code !== 'NETLINK_ERRNO') this.needsReopen = true;
    clearTimeout(p.timer);
    this.totals.failures++;
    p.reject(err);
  }

  private finish(p: PendingDump): void {
    this.pending = null;
    clearTimeout(p.timer);
    p.stats.durationMs = this.clock() - p.started;
    this.totals.dumps++;
    this.totals.entries += p.stats.received;
    this.totals.malformed += p.stats.malformed;
    if (p.visitorError !== undefined) {
      this.totals.failures++;
      p.reject(p.visitorError);
    } else {
      p.resolve(p.stats);
    }
  }

  private onDatagram(buf: Buffer): void {
    const p = this.pending;
    if (p === null) return; // a late datagram of a failed dump
    this.options.tap?.(buf);
    const dv = dataViewOf(buf);
    const view = this.view;
    const stats = p.stats;
    let off = 0;
    while (off < buf.length) {
      let len: number;
      try {
        len = nlmsgLength(buf, off);
      } catch (err) {
        stats.malformed++;
        stats.lastError = err as ConntrackError;
        return; // the rest of this datagram cannot be framed
      }
      const type = buf[off + 4] | (buf[off + 5] << 8);
      const seq = buf.readUInt32LE(off + 8);
      if (seq === p.seq) {
        if (type === CT_NEW) {
          let ok = true;
          try {
            parseConntrackMessage(buf, dv, off, len, view);
          } catch (err) {
            ok = false;
            stats.malformed++;
            stats.lastError = err as ConntrackError;
          }
          if (ok) {
            stats.received++;
            if ((p.zone < 0 || view.zone === p.zone) && p.visitorError === undefined) {
              stats.visited++;
              try {
                p.visitor(view);
              } catch (err) {
                p.visitorError = err ?? new Error('visitor threw');
              }
            }
          }
        } else if (type === NLMSG_DONE) {
          this.finish(p);
          return;
        } else if (type === NLMSG_ERROR) {
          let code: number;
          try {
            code = nlmsgErrorCode(buf, off, len);
          } catch (err) {
            this.fail(err as ConntrackError);
            return;
          }
          if (code !== 0) {
            this.fail(netlinkErrnoError('conntrack dump', code));
            return;
          }
        }
      }
      off += (len + 3) & ~3;
    }
  }
}
