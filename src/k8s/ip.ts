/**
 * IP addresses and CIDRs for metadata lookups: parsing, canonical text (RFC 5952 for IPv6, so the
 * same address always has the same map key), prefix containment and a longest-prefix-match table.
 * IPv4 values are unsigned 32-bit numbers, IPv6 values 128-bit bigints.
 */

export type IPValue = { readonly family: 4; readonly value: number } | { readonly family: 6; readonly value: bigint };

export interface Cidr {
  readonly family: 4 | 6;
  /** Network address (host bits cleared). */
  readonly network: number | bigint;
  readonly prefix: number;
  /** Canonical text, e.g. "10.244.1.0/24". */
  readonly text: string;
}

export function parseIPv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46 && digits > 0 && parts < 3) {
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (parts !== 3 || digits === 0) return undefined;
  return value * 256 + octet;
}

export function parseIPv6(text: string): bigint | undefined {
  if (text.includes('%')) return undefined;
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return undefined;
  const groupsOf = (part: string, allowV4Tail: boolean): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const groups = part.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groupsOf(dbl >= 0 ? text.slice(0, dbl) : text, dbl < 0);
  const tail = dbl >= 0 ? groupsOf(text.slice(dbl + 2), true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const total = head.length + tail.length;
  if (dbl >= 0 ? total > 7 : total !== 8) return undefined;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
}

export function parseIP(text: string): IPValue | undefined {
  if (text.includes(':')) {
    const value = parseIPv6(text);
    return value === undefined ? undefined : { family: 6, value };
  }
  const value = parseIPv4(text);
  return value === undefined ? undefined : { family: 4, value };
}

export function formatIPv4(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** RFC 5952 text: lower case, no leading zeros, the first longest run (>= 2) of zero words as "::". */
export function formatIPv6(v: bigint): string {
  const w = new Array<number>(8);
  for (let i = 7; i >= 0; i--) {
    w[i] = Number(v & 0xffffn);
    v >>= 16n;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart === 0 && bestLen === 5 && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(((w[6] << 16) | w[7]) >>> 0)}`;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

export function formatIP(ip: IPValue): string {
  return ip.family === 4 ? formatIPv4(ip.value) : formatIPv6(ip.value);
}

/** Canonical text of an address, or undefined when `text` is not an IP address. */
export function normalizeIP(text: string): string | undefined {
  if (!text.includes(':')) return parseIPv4(text) === undefined ? undefined : canonicalIPv4(text);
  const v = parseIPv6(text);
  return v === undefined ? undefined : formatIPv6(v);
}

function canonicalIPv4(text: string): string {
  // Fast path: already canonical unless an octet has a leading zero.
  return /(^|\.)0\d/.test(text) ? formatIPv4(parseIPv4(text) as number) : text;
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (ip === undefined || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (ip.family === 4) {
    if (prefix > 32) return undefined;
    const network = prefix === 0 ? 0 : (ip.value & (0xffffffff << (32 - prefix))) >>> 0;
    return { family: 4, network, prefix, text: `${formatIPv4(network)}/${prefix}` };
  }
  if (prefix > 128) return undefined;
  const network = ip.value & maskV6(prefix);
  return { family: 6, network, prefix, text: `${formatIPv6(network)}/${prefix}` };
}

const ALL_ONES_V6 = (1n << 128n) - 1n;

function maskV6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL_ONES_V6 >> BigInt(128 - prefix)) << BigInt(128 - prefix);
}

function maskV4(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function cidrContains(cidr: Cidr, ip: IPValue): boolean {
  if (cidr.family !== ip.family) return false;
  if (ip.family === 4) return (ip.value & maskV4(cidr.prefix)) >>> 0 === cidr.network;
  return (ip.value & maskV6(cidr.prefix)) === cidr.network;
}

/** The first host address of a subnet (network + 1), the conventional Pod-subnet gateway. */
export function firstHostAddress(cidr: Cidr): string {
  return cidr.family === 4 ? formatIPv4(((cidr.network as number) + 1) >>> 0) : formatIPv6((cidr.network as bigint) + 1n);
}

/**
 * Longest-prefix-match table from CIDRs to values. A lookup masks the address once per distinct
 * prefix length present (usually one or two), so it stays O(1) in the number of CIDRs.
 */
export class CidrTable<V> {
  private readonly v4 = new Map<number, Map<number, V>>();
  private readonly v6 = new Map<number, Map<bigint, V>>();
  private v4Prefixes: number[] = [];
  private v6Prefixes: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  set(cidr: Cidr, value: V): void {
    if (cidr.family === 4) {
      let m = this.v4.get(cidr.prefix);
      if (m === undefined) {
        m = new Map();
        this.v4.set(cidr.prefix, m);
        this.v4Prefixes = [...this.v4.keys()].sort((a, b) => b - a);
      }
      if (!m.has(cidr.network as number)) this.count++;
      m.set(cidr.network as number, value);
    } else {
      let m = this.v6.get(cidr.prefix);
      if (m === undefined) {
        m = new Map();
        this.v6.set(cidr.prefix, m);
        this.v6Prefixes = [...this.v6.keys()].sort((a, b) => b - a);
      }
      if (!m.has(cidr.network as bigint)) this.count++;
      m.set(cidr.network as bigint, value);
    }
  }

  clear(): void {
    this.v4.clear();
    this.v6.clear();
    this.v4Prefixes = [];
    this.v6Prefixes = [];
    this.count = 0;
  }

  lookup(ip: IPValue): V | undefined {
    if (ip.family === 4) {
      for (const p of this.v4Prefixes) {
        const hit = this.v4.get(p)?.get((ip.value & maskV4(p)) >>> 0);
        if (hit !== undefined) return hit;
      }
      return undefined;
    }
    for (const p of this.v6Prefixes) {
      const hit = this.v6.get(p)?.get(ip.value & maskV6(p));
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
}
