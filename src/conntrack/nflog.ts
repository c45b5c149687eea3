/**
 * NFLOG (nfnetlink_log) listener: receives the packets that firewall rules log to a group, e.g.
 * nftables `tcp dport 9999 log prefix "deny " group 5 drop`.
 *
 * Configuration messages, each acknowledged by the kernel (NLM_F_ACK):
 *   (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, nfgenmsg { family, res_id = group }
 *     NFULA_CFG_CMD  { u8 command }                  PF_UNBIND / PF_BIND per family (res_id 0),
 *                                                     then BIND for the group
 *     NFULA_CFG_MODE { be32 copy_range; u8 copy_mode; u8 pad }   copy mode PACKET
 * PF_(UN)BIND are no-ops on kernels >= 3.17; their errors are ignored. Configuring a group that
 * another socket already listens on fails with EPERM.
 */
import { ConntrackError } from '../errors.ts';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  NFNL_SUBSYS_ULOG,
  NFULA_CFG_CMD,
  NFULA_CFG_MODE,
  NFULNL_CFG_CMD_BIND,
  NFULNL_CFG_CMD_PF_BIND,
  NFULNL_CFG_CMD_PF_UNBIND,
  NFULNL_COPY_PACKET,
  NFULNL_MSG_CONFIG,
  NFULNL_MSG_PACKET,
  NLM_F_ACK,
  NLM_F_REQUEST,
  NLMSG_ERROR,
} from './constants.ts';
import { AsyncQueue } from './async-queue.ts';
import { nfnlMessage, nlattr } from './netlink-writer.ts';
import {
  netlinkErrnoError,
  nlmsgErrorCode,
  nlmsgLength,
  openNetfilterSocket,
  type RawNetlinkSocket,
} from './netlink-socket.ts';
import { type NflogPacket, parseNflogMessage } from './nflog-parser.ts';

export type { NflogPacket };

const MSG_CONFIG = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
const MSG_PACKET = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;

export interface NflogOptions {
  /** NFLOG group (0-65535), as in the rule's `log group N`. */
  group: number;
  /** Bytes of each packet to copy (default 256: IPv6 header + extension headers + L4 ports). */
  copyRange?: number;
  onPacket: (packet: NflogPacket) => void;
  /** Malformed messages and receive errors; never thrown. */
  onError?: (err: ConntrackError) => void;
  /** Receive-time clock in ns since the epoch, for packets without a kernel timestamp. */
  clock?: () => bigint;
  /** SO_RCVBUF in bytes (default 8 MiB, capped by net.core.rmem_max). */
  receiveBufferSize?: number;
  /** Milliseconds to wait for each configuration ACK (default 5000). */
  configTimeoutMs?: number;
}

export interface NflogStats {
  packets: number;
  malformed: number;
  overruns: number;
}

function cmdAttr(command: number): Buffer {
  return nlattr(NFULA_CFG_CMD, Uint8Array.of(command));
}

function modeAttr(copyRange: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUInt32BE(copyRange, 0);
  b[4] = NFULNL_COPY_PACKET;
  return nlattr(NFULA_CFG_MODE, b);
}

const defaultClock = (): bigint => BigInt(Date.now()) * 1_000_000n;

export class NflogListener {
  readonly stats: NflogStats = { packets: 0, malformed: 0, overruns: 0 };
  private sock: RawNetlinkSocket | null;
  private seq = (Math.random() * 0x7fffffff) >>> 0;
  private readonly acks = new Map<number, (code: number) => void>();
  private readonly clock: () => bigint;

  private constructor(
    sock: RawNetlinkSocket,
    private readonly options: NflogOptions,
  ) {
    this.sock = sock;
    this.clock = options.clock ?? defaultClock;
    sock.on('message', (buf) => this.onDatagram(buf));
    sock.on('truncatedMessage', () => {
      this.stats.malformed++;
      this.report(new ConntrackError('NETLINK_TRUNCATED', 'NFLOG datagram truncated'));
    });
    sock.on('error', (err) => {
      if (err.code === 'ENOBUFS') {
        this.stats.overruns++;
        this.report(new ConntrackError('NFLOG_OVERRUN', 'NFLOG packets lost: socket receive buffer overflowed'));
      } else {
        this.report(new ConntrackError('NETLINK_RECV', `netlink receive failed: ${err.message}`, { errno: err.errno }));
      }
    });
  }

  /**
   * Binds a listener to `options.group` in the current network namespace.
   * @throws ConntrackError NETLINK_UNAVAILABLE, NETLINK_ERRNO (e.g. EPERM: group taken), NFLOG_CONFIG_TIMEOUT
   */
  static async open(options: NflogOptions): Promise<NflogListener> {
    if (!Number.isInteger(options.group) || options.group < 0 || options.group > 0xffff) {
      throw new ConntrackError('NFLOG_OPTIONS', `NFLOG group must be 0..65535, got ${options.group}`, {
        group: options.group,
      });
    }
    const sock = await openNetfilterSocket({ receiveBufferSize: options.receiveBufferSize });
    const listener = new NflogListener(sock, options);
    try {
      await listener.configure();
    } catch (err) {
      listener.close();
      throw err;
    }
    return listener;
  }

  close(): void {
    for (const resolve of this.acks.values()) resolve(-125 /* ECANCELED */);
    this.acks.clear();
    this.sock?.close();
    this.sock = null;
  }

  private async configure(): Promise<void> {
    const { group } = this.options;
    for (const family of [AF_INET, AF_INET6]) {
      await this.config(family, 0, cmdAttr(NFULNL_CFG_CMD_PF_UNBIND), true);
      await this.config(family, 0, cmdAttr(NFULNL_CFG_CMD_PF_BIND), true);
    }
    await this.config(AF_UNSPEC, group, cmdAttr(NFULNL_CFG_CMD_BIND), false);
    await this.config(AF_UNSPEC, group, modeAttr(this.options.copyRange ?? 256), false);
  }

  private config(family: number, group: number, attr: Buffer, ignoreErrors: boolean): Promise<void> {
    const sock = this.sock;
    if (!sock) return Promise.reject(new ConntrackError('SOURCE_CLOSED', 'NFLOG listener closed'));
    const seq = (this.seq = (this.seq + 1) >>> 0);
    const msg = nfnlMessage({ type: MSG_CONFIG, flags: NLM_F_REQUEST | NLM_F_ACK, seq, family, resId: group }, [attr]);
    const timeoutMs = this.options.configTimeoutMs ?? 5000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(seq);
        reject(new ConntrackError('NFLOG_CONFIG_TIMEOUT', `no ACK for NFLOG configuration in ${timeoutMs} ms`, { group }));
      }, timeoutMs);
      this.acks.set(seq, (code) => {
        clearTimeout(timer);
        this.acks.delete(seq);
        if (code === 0 || ignoreErrors) resolve();
        else reject(netlinkErrnoError(`NFLOG configuration of group ${group}`, code));
      });
      sock.send(msg, {}, (err) => {
        if (err) this.acks.get(seq)?.(-(err.errno ?? 5));
      });
    });
  }

  private report(err: ConntrackError): void {
    this.options.onError?.(err);
  }

  private onDatagram(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      let len: number;
      try {
        len = nlmsgLength(buf, off);
      } catch (err) {
        this.stats.malformed++;
        this.report(err as ConntrackError);
        return;
      }
      const type = buf.readUInt16LE(off + 4);
      if (type === MSG_PACKET) {
        let packet: NflogPacket | undefined;
        try {
          packet = parseNflogMessage(buf, off, len, this.clock());
        } catch (err) {
          this.stats.malformed++;
          this.report(
            err instanceof ConntrackError ? err : new ConntrackError('NFLOG_MALFORMED', String(err), { offset: off }),
          );
        }
        if (packet) {
          this.stats.packets++;
          try {
            this.options.onPacket(packet);
          } catch (err) {
            this.report(new ConntrackError('NFLOG_HANDLER', `NFLOG packet handler threw: ${String(err)}`, {}, { cause: err }));
          }
        }
      } else if (type === NLMSG_ERROR) {
        const seq = buf.readUInt32LE(off + 8);
        const ack = this.acks.get(seq);
        if (ack) {
          let code: number;
          try {
            code = nlmsgErrorCode(buf, off, len);
          } catch {
            code = -74; // EBADMSG
          }
          ack(code);
        }
      }
      off += (len + 3) & ~3;
    }
  }
}

/**
 * NFLOG packets as an async iterator; breaking out of the loop closes the socket. At most
 * `capacity` packets are buffered; older ones are dropped (see `dropped`).
 */
export async function nflogPackets(
  options: Omit<NflogOptions, 'onPacket'> & { capacity?: number },
): Promise<AsyncQueue<NflogPacket> & { listener: NflogListener }> {
  const queue = new AsyncQueue<NflogPacket>(options.capacity ?? 65536);
  const listener = await NflogListener.open({ ...options, onPacket: (p) => queue.push(p) });
  queue.onReturn = () => listener.close();
  return Object.assign(queue, { listener });
}
