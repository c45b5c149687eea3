/**
 * Maximum IPFIX message size per transport (as go-ipfix's calculateMaxMsgSize):
 *   TCP / TLS: 65535 (the largest length the message header can state).
 *   UDP:       path MTU − 28 (IPv4 + UDP headers) or − 48 (IPv6 + UDP), at least 512, so that a
 *              message never needs IP fragmentation. The MTU is that of the local interface the
 *              connected UDP socket sends from (read from /sys/class/net/<name>/mtu); 512 when it
 *              cannot be found. An explicit override must lie in 512..65535.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { TransportError } from '../errors.ts';

export const MIN_MESSAGE_SIZE = 512;
export const MAX_MESSAGE_SIZE = 65535;
const UDP_OVERHEAD = { 4: 28, 6: 48 } as const;

export function checkMessageSizeOverride(size: number): number {
  if (!Number.isInteger(size) || size < MIN_MESSAGE_SIZE || size > MAX_MESSAGE_SIZE) {
    throw new TransportError('BAD_MESSAGE_SIZE', `maximum message size ${size} is outside ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_SIZE}`, { maxMessageSize: size });
  }
  return size;
}

/** Largest UDP message for a path MTU and IP family. */
export function udpMessageSizeForMtu(mtu: number, family: 4 | 6): number {
  return Math.max(MIN_MESSAGE_SIZE, Math.min(MAX_MESSAGE_SIZE, mtu - UDP_OVERHEAD[family]));
}

/** Name of the interface that owns `localAddress`, or undefined. */
export function interfaceOfAddress(localAddress: string): string | undefined {
  const want = localAddress.toLowerCase().replace(/^::ffff:/, '');
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.address.toLowerCase().replace(/%.*$/, '') === want) return name;
    }
  }
  return undefined;
}

/** MTU of a network interface from sysfs, or undefined. */
export function interfaceMtu(name: string): number | undefined {
  try {
    const mtu = Number.parseInt(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8').trim(), 10);
    return Number.isInteger(mtu) && mtu > 0 ? mtu : undefined;
  } catch {
    return undefined;
  }
}

/** MTU of the interface a socket bound to `localAddress` sends from; undefined if unknown. */
export function mtuOfLocalAddress(localAddress: string): number | undefined {
  const name = interfaceOfAddress(localAddress);
  return name === undefined ? undefined : interfaceMtu(name);
}
