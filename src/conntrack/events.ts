/**
 * Conntrack event subscription over ctnetlink multicast groups.
 *
 *   groups: NFNLGRP_CONNTRACK_NEW (1), _UPDATE (2), _DESTROY (3)
 *   message: IPCTNL_MSG_CT_NEW with NLM_F_CREATE|NLM_F_EXCL  -> new
 *            IPCTNL_MSG_CT_NEW without those flags           -> update
 *            IPCTNL_MSG_CT_DELETE                            -> destroy
 *   body:    the same attributes as a dump reply (see ct-parser.ts)
 *
 * When the socket's receive buffer overflows the kernel drops events and reports ENOBUFS: that is
 * counted as an overrun and reported to onError; listening continues.
 */
import { ConntrackError } from '../errors.ts';
import {
  IPCTNL_MSG_CT_DELETE,
  NFNL_SUBSYS_CTNETLINK,
  NFNLGRP_CONNTRACK_DESTROY,
  NFNLGRP_CONNTRACK_NEW,
  NFNLGRP_CONNTRACK_UPDATE,
  NLM_F_CREATE,
  NLM_F_EXCL,
} from './constants.ts';
import { AsyncQueue } from './async-queue.ts';
import { dataViewOf, NetlinkEntryView, parseConntrackMessage } from './ct-parser.ts';
import type { ConntrackEntry, ConntrackEntryView } from './entry.ts';
import { isConntrackEntryMessage } from './netlink-source.ts';
import { nlmsgLength, openNetfilterSocket, type RawNetlinkSocket } from './netlink-socket.ts';

export type ConntrackEventType = 'new' | 'update' | 'destroy';

export interface ConntrackEvent {
  type: ConntrackEventType;
  entry: ConntrackEntry;
}

export interface ConntrackEventOptions {
  /** Event types to subscribe to (default all three). */
  events?: readonly ConntrackEventType[];
  /** Called per event with a reused view (valid only during the call). */
  onEvent: (type: ConntrackEventType, entry: ConntrackEntryView) => void;
  /** Malformed messages and overruns; never thrown. */
  onError?: (err: ConntrackError) => void;
  /** SO_RCVBUF in bytes (default 8 MiB, capped by net.core.rmem_max). */
  receiveBufferSize?: number;
}

export interface ConntrackEventStats {
  events: number;
  malformed: number;
  overruns: number;
}

const GROUPS: Record<ConntrackEventType, number> = {
  new: NFNLGRP_CONNTRACK_NEW,
  update: NFNLGRP_CONNTRACK_UPDATE,
  destroy: NFNLGRP_CONNTRACK_DESTROY,
};
const CT_DELETE = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;

export class ConntrackEventListener {
  readonly stats: ConntrackEventStats = { events: 0, malformed: 0, overruns: 0 };
  private readonly view = new NetlinkEntryView();
  private sock: RawNetlinkSocket | null;

  private constructor(
    sock: RawNetlinkSocket,
    private readonly options: ConntrackEventOptions,
  ) {
    this.sock = sock;
    sock.on('message', (buf) => this.onDatagram(buf));
    sock.on('error', (err) => {
      if (err.code === 'ENOBUFS') {
        this.stats.overruns++;
        this.report(new ConntrackError('EVENTS_OVERRUN', 'conntrack events lost: socket receive buffer overflowed'));
      } else {
        this.report(new ConntrackError('NETLINK_RECV', `netlink receive failed: ${err.message}`, { errno: err.errno }));
      }
    });
  }

  /**
   * Subscribes to conntrack events of the current network namespace. The listener keeps the
   * process alive until `close()`.
   * @throws ConntrackError NETLINK_UNAVAILABLE / NETLINK_GROUP
   */
  static async open(options: ConntrackEventOptions): Promise<ConntrackEventListener> {
    const types = options.events ?? (['new', 'update', 'destroy'] as const);
    const sock = await openNetfilterSocket({
      receiveBufferSize: options.receiveBufferSize,
      groups: types.map((t) => GROUPS[t]),
    });
    return new ConntrackEventListener(sock, options);
  }

  close(): void {
    this.sock?.close();
    this.sock = null;
  }

  private report(err: ConntrackError): void {
    this.options.onError?.(err);
  }

  private onDatagram(buf: Buffer): void {
    const dv = dataViewOf(buf);
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
      const flags = buf.readUInt16LE(off + 6);
      if (isConntrackEntryMessage(type)) {
        let ok = true;
        try {
          parseConntrackMessage(buf, dv, off, len, this.view);
        } catch (err) {
          ok = false;
          this.stats.malformed++;
          this.report(err as ConntrackError);
        }
        if (ok) {
          this.stats.events++;
          const kind: ConntrackEventType =
            type === CT_DELETE ? 'destroy' : flags & (NLM_F_CREATE | NLM_F_EXCL) ? 'new' : 'update';
          try {
            this.options.onEvent(kind, this.view);
          } catch (err) {
            this.report(
              new ConntrackError('EVENT_HANDLER', `conntrack event handler threw: ${String(err)}`, {}, { cause: err }),
            );
          }
        }
      }
      off += (len + 3) & ~3;
    }
  }
}

/**
 * Conntrack events as an async iterator of plain objects. Breaking out of the loop closes the
 * socket. At most `capacity` events are buffered; older ones are dropped (see `dropped`).
 */
export async function conntrackEvents(
  options: Omit<ConntrackEventOptions, 'onEvent'> & { capacity?: number } = {},
): Promise<AsyncQueue<ConntrackEvent> & { listener: ConntrackEventListener }> {
  const queue = new AsyncQueue<ConntrackEvent>(options.capacity ?? 65536);
  const listener = await ConntrackEventListener.open({
    ...options,
    onEvent: (type, view) => queue.push({ type, entry: view.toEntry() }),
  });
  queue.onReturn = () => listener.close();
  return Object.assign(queue, { listener });
}
