/**
 * Opening NETLINK_NETFILTER sockets through the `netlink` package's RawNetlinkSocket, and the
 * framing helpers every reader in this folder shares:
 *
 *   datagram := nlmsg*          nlmsg := nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid }
 *                                        payload, padded to 4 bytes
 *   NLMSG_ERROR payload := { i32 error (0 = ACK, else -errno); nlmsghdr of the request }
 */
import { constants as osConstants } from 'node:os';
import type { RawNetlinkSocket } from 'netlink';
import { ConntrackError } from '../errors.ts';
import { NETLINK_NETFILTER, NLMSG_HDRLEN } from './constants.ts';

export type { RawNetlinkSocket };

export interface NetfilterSocketOptions {
  /**
   * Fixed receive buffer per datagram in bytes. 0 (default) peeks each datagram's size first
   * (two syscalls per datagram, any size). Dumps use a fixed 64 KiB buffer: the kernel then
   * packs up to 32 KiB of messages per datagram, 8x fewer datagrams than with peeking.
   */
  messageBufferSize?: number;
  /** SO_RCVBUF in bytes (the kernel caps it at net.core.rmem_max). Default 8 MiB. */
  receiveBufferSize?: number;
  /** nfnetlink multicast groups to join. */
  groups?: readonly number[];
}

let rawSocketClass: Promise<typeof RawNetlinkSocket> | undefined;

async function loadRawSocketClass(): Promise<typeof RawNetlinkSocket> {
  rawSocketClass ??= import('netlink').then((m) => m.RawNetlinkSocket);
  return rawSocketClass;
}

/**
 * Opens a NETLINK_NETFILTER socket.
 * @throws ConntrackError code NETLINK_UNAVAILABLE when the package or the socket cannot be created.
 */
export async function openNetfilterSocket(options: NetfilterSocketOptions = {}): Promise<RawNetlinkSocket> {
  let Raw: typeof RawNetlinkSocket;
  try {
    Raw = await loadRawSocketClass();
  } catch (err) {
    rawSocketClass = undefined;
    throw new ConntrackError('NETLINK_UNAVAILABLE', `cannot load the netlink package: ${String(err)}`, {}, { cause: err });
  }
  const bufferSize = options.messageBufferSize ?? 0;
  let sock: RawNetlinkSocket;
  try {
    sock = new Raw(NETLINK_NETFILTER, {
      messagePeeking: bufferSize === 0,
      msgBufferSize: bufferSize === 0 ? undefined : bufferSize,
      recvBufferSize: options.receiveBufferSize ?? 8 << 20,
      sendBufferSize: 0,
    });
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    throw new ConntrackError(
      'NETLINK_UNAVAILABLE',
      `cannot open a NETLINK_NETFILTER socket: ${(err as Error).message}`,
      { errno },
      { cause: err },
    );
  }
  try {
    for (const group of options.groups ?? []) sock.addMembership(group);
  } catch (err) {
    sock.close();
    throw new ConntrackError(
      'NETLINK_GROUP',
      `cannot join nfnetlink multicast group: ${(err as Error).message}`,
      { errno: (err as { errno?: number }).errno },
      { cause: err },
    );
  }
  return sock;
}

const errnoNames = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** The symbolic name of a (positive) errno, e.g. 16 -> "EBUSY". */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** The error field of an NLMSG_ERROR message: 0 for an ACK, else a negative errno. */
export function nlmsgErrorCode(buf: Buffer, msgOffset: number, msgLength: number): number {
  if (msgLength < NLMSG_HDRLEN + 4) {
    throw new ConntrackError('NLMSG_TRUNCATED', 'NLMSG_ERROR message without an error code', { offset: msgOffset });
  }
  return buf.readInt32LE(msgOffset + NLMSG_HDRLEN);
}

/** A ConntrackError for a netlink error reply (`code` is the negative errno from the kernel). */
export function netlinkErrnoError(what: string, code: number): ConntrackError {
  const errno = -code;
  return new ConntrackError('NETLINK_ERRNO', `${what}: kernel replied ${errnoName(errno)}`, {
    errno,
    errnoName: errnoName(errno),
  });
}

/**
 * Checks the nlmsghdr at `off` of a datagram and returns its length (not padded).
 * @throws ConntrackError NLMSG_TRUNCATED when the header or the message overruns the datagram.
 */
export function nlmsgLength(buf: Buffer, off: number): number {
  if (buf.length - off < NLMSG_HDRLEN) {
    throw new ConntrackError('NLMSG_TRUNCATED', `netlink header truncated: ${buf.length - off} bytes left`, {
      offset: off,
    });
  }
  const len = buf.readUInt32LE(off);
  if (len < NLMSG_HDRLEN || len > buf.length - off) {
    throw new ConntrackError('NLMSG_TRUNCATED', `netlink message length ${len} overruns the datagram`, {
      offset: off,
      length: len,
    });
  }
  return len;
}
