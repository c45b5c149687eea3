/**
 * Text <-> bytes conversions for ipv4Address, ipv6Address and macAddress values.
 * Parsing errors are reported as `null` so callers can attach their own context.
 */

/** Parses dotted-quad IPv4 text into `out` at `offset`; returns false when `text` is not IPv4. */
export function writeIPv4(text: string, out: Uint8Array, offset: number): boolean {
  let octet = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return false;
    } else if (c === 46 && digits > 0 && part < 3) {
      out[offset + part++] = octet;
      octet = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (part !== 3 || digits === 0) return false;
  out[offset + 3] = octet;
  return true;
}

export function formatIPv4(b: Uint8Array, p: number): string {
  return b[p] + '.' + b[p + 1] + '.' + b[p + 2] + '.' + b[p + 3];
}

/** Parses IPv6 text (RFC 4291 §2.2 forms, including "::" and an embedded IPv4 tail) into 16 bytes. */
export function writeIPv6(text: string, out: Uint8Array, offset: number): boolean {
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return false;
  const head = dbl >= 0 ? text.slice(0, dbl) : text;
  const tail = dbl >= 0 ? text.slice(dbl + 2) : '';
  const words: number[] = [];
  const tailWords: number[] = [];
  const parse = (part: string, into: number[], allowV4: boolean): boolean => {
    if (part === '') return true;
    const groups = part.split(':');
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (allowV4 && i === groups.length - 1 && g.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!writeIPv4(g, v4, 0)) return false;
        into.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return false;
      into.push(parseInt(g, 16));
    }
    return true;
  };
  if (!parse(head, words, dbl < 0)) return false;
  if (!parse(tail, tailWords, true)) return false;
  const total = words.length + tailWords.length;
  if (dbl >= 0 ? total > 7 : total !== 8) return false;
  const all = [...words, ...new Array<number>(8 - total).fill(0), ...tailWords];
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = all[i] >> 8;
    out[offset + 2 * i + 1] = all[i] & 0xff;
  }
  return true;
}

/** Formats 16 bytes as canonical IPv6 text (RFC 5952: lower case, longest zero run compressed). */
export function formatIPv6(b: Uint8Array, p: number): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (b[p + 2 * i] << 8) | b[p + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  // IPv4-mapped addresses (::ffff:a.b.c.d) keep their dotted tail.
  if (bestStart === 0 && bestLen === 5 && w[5] === 0xffff) return '::ffff:' + formatIPv4(b, p + 12);
  if (bestStart < 0) return w.map((x) => x.toString(16)).join(':');
  const left = w.slice(0, bestStart).map((x) => x.toString(16)).join(':');
  const right = w.slice(bestStart + bestLen).map((x) => x.toString(16)).join(':');
  return left + '::' + right;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function formatMac(b: Uint8Array, p: number): string {
  return HEX[b[p]] + ':' + HEX[b[p + 1]] + ':' + HEX[b[p + 2]] + ':' + HEX[b[p + 3]] + ':' + HEX[b[p + 4]] + ':' + HEX[b[p + 5]];
}

export function writeMac(text: string, out: Uint8Array, offset: number): boolean {
  const m = /^([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})$/.exec(text);
  if (!m) return false;
  for (let i = 0; i < 6; i++) out[offset + i] = parseInt(m[i + 1], 16);
  return true;
}
