/**
 * Formatting of raw IPv4 / IPv6 addresses (network byte order, as netlink carries them) into the
 * canonical text forms: dotted quad, and RFC 5952 for IPv6 (lower case, longest run of two or more
 * zero groups compressed to "::", leftmost run on a tie, IPv4-mapped addresses as ::ffff:a.b.c.d).
 */

/** Formats 4 bytes at `offset` as a dotted quad. The caller guarantees the bytes are in range. */
export function formatIPv4(buf: Uint8Array, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Formats a host-order uint32 (as returned by readUInt32BE of the address) as a dotted quad. */
export function formatIPv4Number(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Formats 16 bytes at `offset` as an RFC 5952 IPv6 address. */
export function formatIPv6(buf: Uint8Array, offset: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (buf[offset + 2 * i] << 8) | buf[offset + 2 * i + 1];

  if (
    groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 &&
    groups[4] === 0 && groups[5] === 0xffff
  ) {
    return `::ffff:${formatIPv4(buf, offset + 12)}`;
  }

  // Longest run of zero groups (length >= 2), leftmost on ties.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;

  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += groups[i].toString(16);
  }
  return out;
}

/** Formats 4 or 16 bytes at `offset`. */
export function formatIP(buf: Uint8Array, offset: number, length: 4 | 16): string {
  return length === 4 ? formatIPv4(buf, offset) : formatIPv6(buf, offset);
}
