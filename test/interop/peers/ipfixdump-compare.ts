/**
 * Compares templates and records we wrote with ipfixDump's listing of them. Each function returns
 * human-readable mismatches (empty when ipfixDump agrees).
 *
 * ipfixDump 2.4 prints dateTimeMicroseconds/Nanoseconds with a zero fraction whatever the octets
 * say (tshark and our decoder read the fraction), so those are compared to the second.
 */
import type { FieldValue, Template } from '../../../src/ipfix/index.ts';
import { ipv6Bytes } from './pcap.ts';
import type { DumpRecord, DumpTemplate } from './ipfixdump.ts';

const VARIABLE_LENGTH = 65535;

export function compareDumpTemplate(ours: Template, theirs: DumpTemplate): string[] {
  const out: string[] = [];
  const where = `template ${ours.id}`;
  if (theirs.id !== ours.id) out.push(`${where}: ipfixDump template id ${theirs.id}`);
  if (theirs.options !== ours.isOptionsTemplate) out.push(`${where}: ipfixDump options=${theirs.options}`);
  if (theirs.scopeFieldCount !== ours.scopeFieldCount) out.push(`${where}: scope ${ours.scopeFieldCount}, ipfixDump ${theirs.scopeFieldCount}`);
  if (theirs.fields.length !== ours.fields.length) return [...out, `${where}: ${ours.fields.length} fields, ipfixDump ${theirs.fields.length}`];
  ours.fields.forEach((f, k) => {
    const t = theirs.fields[k];
    const ours4 = [f.ie.enterpriseNumber, f.ie.id, f.length, f.ie.name].join('/');
    const theirs4 = [t.enterpriseNumber, t.id, t.length, t.name].join('/');
    if (ours4 !== theirs4) out.push(`${where} field ${k}: PEN/id/length/name ${ours4}, ipfixDump ${theirs4}`);
  });
  return out;
}

/** "2025-11-13 02:13:20" (+ ".mmm" with milliseconds) for a time in ms since the epoch, UTC. */
function utc(ms: number, withMillis: boolean): string {
  const iso = new Date(ms).toISOString(); // 2025-11-13T02:13:20.123Z
  return iso.slice(0, 10) + ' ' + iso.slice(11, withMillis ? 23 : 19);
}

function expectedText(type: string, length: number, v: FieldValue): string | ((text: string) => boolean) {
  switch (type) {
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'unsigned64':
    case 'signed8': case 'signed16': case 'signed32': case 'signed64': {
      const bits = length * 8;
      const want = BigInt.asUintN(bits, BigInt(v as number | bigint));
      return (text) => /^-?\d+$/.test(text) && BigInt.asUintN(bits, BigInt(text)) === want;
    }
    case 'float32': case 'float64': {
      const want = length === 4 ? Math.fround(v as number) : (v as number);
      return (text) => Math.abs(Number(text) - want) <= 1e-6 * Math.max(1, Math.abs(want));
    }
    case 'boolean': return v ? '1' : '2';
    case 'dateTimeSeconds': return utc((v as number) * 1000, false);
    case 'dateTimeMilliseconds': return utc(v as number, true);
    case 'dateTimeMicroseconds': case 'dateTimeNanoseconds':
      return (text) => text.startsWith(utc(Number((v as bigint) / 1_000_000_000n) * 1000, false) + '.');
    case 'ipv4Address': case 'macAddress': return (v as string).toLowerCase();
    case 'ipv6Address': return (text) => ipv6Bytes(text).equals(ipv6Bytes(v as string));
    case 'string': {
      const n = length === VARIABLE_LENGTH ? Buffer.byteLength(v as string) : length;
      return `(len: ${n}) ${(v as string).replace(/\0+$/, '')}`.trimEnd();
    }
    default: {
      const b = Buffer.from(v as Uint8Array);
      const n = length === VARIABLE_LENGTH ? b.length : length;
      return n === 0 ? '(len: 0)' : `(len: ${n}) 0x${Buffer.concat([b, Buffer.alloc(Math.max(0, n - b.length))]).toString('hex')}`;
    }
  }
}

/** Compares a record we wrote with ipfixDump's listing (run with --hexdump so octet arrays show). */
export function compareDumpRecord(template: Template, values: readonly FieldValue[], theirs: DumpRecord, where: string): string[] {
  const out: string[] = [];
  if (theirs.templateId !== template.id) out.push(`${where}: template ${template.id}, ipfixDump ${theirs.templateId}`);
  if (theirs.fields.length !== template.fields.length) return [...out, `${where}: ${template.fields.length} fields, ipfixDump ${theirs.fields.length}`];
  template.fields.forEach((f, k) => {
    const t = theirs.fields[k];
    const v = values[k];
    const name = `${where} field ${k} (${f.ie.name})`;
    if (t.enterpriseNumber !== f.ie.enterpriseNumber || t.id !== f.ie.id || t.name !== f.ie.name) {
      out.push(`${name}: ipfixDump shows (${t.enterpriseNumber}/${t.id}) ${t.name}`);
    }
    if (t.scope !== k < template.scopeFieldCount) out.push(`${name}: ipfixDump scope=${t.scope}`);
    const want = expectedText(f.ie.dataType, f.length, v);
    const ok = typeof want === 'string' ? t.text.trimEnd() === want : want(t.text.trimEnd());
    if (!ok) out.push(`${name}: ipfixDump shows "${t.text.slice(0, 80)}", expected ${typeof want === 'string' ? `"${want.slice(0, 80)}"` : String(v)}`);
  });
  return out;
}
