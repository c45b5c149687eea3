/**
 * Formatting of raw IPv4 / IPv6 addresses (network byte order, as netlink carries them) into the
 * canonical text forms: dotted quad, and RFC 5952 for IPv6 (lower case, longest run of two or more
 * zero groups compressed to "::", leftmost run on a tie, IPv4-mapped addresses as ::ffff:a.b.c.d).
 */

// One implementation of address text for the whole project (RFC 5952 for IPv6).
import { formatIPv4, formatIPv6 } from '../ipfix/addresses.ts';

export { formatIPv4, formatIPv6 };

/** Formats a host-order uint32 (as returned by readUInt32BE of the address) as a dotted quad. */
export function formatIPv4Number(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Formats 4 or 16 bytes at `offset`. */
export function formatIP(buf: Uint8Array, offset: number, length: 4 | 16): string {
  return length === 4 ? formatIPv4(buf, offset) : formatIPv6(buf, offset);
}
