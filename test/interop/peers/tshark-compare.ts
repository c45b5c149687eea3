/**
 * Field-by-field comparison of records (a template plus values, as we wrote or decoded them) with
 * tshark's dissection of the same octets. Each function returns a list of human-readable
 * mismatches, empty when tshark agrees, so a failing test prints every difference at once.
 *
 * For every field: tshark's field must sit at the position our template and values imply (which
 * checks reduced sizes and the 1- or 3-octet variable-length prefixes), have the same octets, and,
 * when tshark knows the element, display the same value (numbers, addresses, strings, times).
 */
import type { DecodedMessage, FieldValue, Template } from '../../../src/ipfix/index.ts';
import { PEN_ANTREA, PEN_REVERSE } from '../../../src/ipfix/index.ts';
import { fieldOctets, lengthPrefixSize, VARIABLE_LENGTH } from './field-octets.ts';
import { tsharkTimeNanos, type TsharkField, type TsharkMessage, type TsharkTemplate } from './tshark.ts';

/** tshark's field names for elements it does not know (their value is shown as raw octets). */
const RAW_FIELDS = new Set(['', 'cflow.enterprise_private_entry', 'cflow.unknown_field', 'cflow.unknown_data']);

/** Name tshark gives to each private enterprise number we use. */
const PEN_LABELS: Record<number, string> = {
  [PEN_ANTREA]: 'Project Antrea',
  [PEN_REVERSE]: 'IPFIX Reverse Information Element Private Enterprise',
};

export function compareTemplate(ours: Template, theirs: TsharkTemplate): string[] {
  const out: string[] = [];
  const where = `template ${ours.id}`;
  if (theirs.id !== ours.id) out.push(`${where}: tshark template id ${theirs.id}`);
  if (theirs.options !== ours.isOptionsTemplate) out.push(`${where}: tshark options=${theirs.options}`);
  if (theirs.scopeFieldCount !== ours.scopeFieldCount) out.push(`${where}: scope field count ${ours.scopeFieldCount}, tshark ${theirs.scopeFieldCount}`);
  if (theirs.fields.length !== ours.fields.length) {
    out.push(`${where}: ${ours.fields.length} fields, tshark ${theirs.fields.length}`);
    return out;
  }
  ours.fields.forEach((f, k) => {
    const t = theirs.fields[k];
    const name = `${where} field ${k} (${f.ie.name})`;
    if (t.id !== f.ie.id) out.push(`${name}: id ${f.ie.id}, tshark ${t.id}`);
    if (t.enterpriseNumber !== f.ie.enterpriseNumber) out.push(`${name}: PEN ${f.ie.enterpriseNumber}, tshark ${t.enterpriseNumber}`);
    if (t.length !== f.length) out.push(`${name}: length ${f.length}, tshark ${t.length}`);
    if (t.scope !== k < ours.scopeFieldCount) out.push(`${name}: tshark scope=${t.scope}`);
    const penLabel = PEN_LABELS[f.ie.enterpriseNumber];
    if (penLabel && t.penLabel !== `PEN: ${penLabel} (${f.ie.enterpriseNumber})`) out.push(`${name}: tshark PEN label "${t.penLabel}"`);
    if (f.ie.enterpriseNumber === PEN_REVERSE && !t.label.endsWith('[Reverse]')) out.push(`${name}: tshark label "${t.label}" is not marked [Reverse]`);
  });
  return out;
}

function show(v: FieldValue): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** Compares tshark's displayed value with ours; null when they agree. */
function valueMismatch(type: string, length: number, v: FieldValue, t: TsharkField): string | null {
  switch (type) {
    case 'unsigned8': case 'unsigned16': case 'unsigned32': case 'unsigned64':
    case 'signed8': case 'signed16': case 'signed32': case 'signed64': {
      let shown: bigint;
      try { shown = BigInt(t.show); } catch { return `tshark shows "${t.show}"`; }
      // tshark shows integers unsigned; compare modulo the field width.
      const bits = length * 8;
      return BigInt.asUintN(bits, shown) === BigInt.asUintN(bits, BigInt(v as number | bigint)) ? null : `tshark shows ${t.show}`;
    }
    case 'float32': case 'float64': {
      const a = Number(t.show);
      const b = length === 4 ? Math.fround(v as number) : (v as number);
      const tolerance = (length === 4 ? 1e-6 : 1e-12) * Math.max(1, Math.abs(b));
      return Math.abs(a - b) <= tolerance ? null : `tshark shows ${t.show}`;
    }
    case 'boolean':
      // tshark labels any non-zero octet "True"; the octets (1 = true, 2 = false) are checked instead.
      return null;
    case 'dateTimeSeconds': case 'dateTimeMilliseconds': case 'dateTimeMicroseconds': case 'dateTimeNanoseconds': {
      const ns = tsharkTimeNanos(t.show);
      const expected = type === 'dateTimeSeconds' ? BigInt(v as number) * 1_000_000_000n
        : type === 'dateTimeMilliseconds' ? BigInt(v as number) * 1_000_000n
          : (v as bigint);
      // NTP time stamps: tshark's fraction-to-nanosecond conversion is off by up to 1 ns (it shows the
      // exact fraction 0x80000000 as .499999999), and a microsecond value carries no more than µs.
      const slack = type === 'dateTimeMicroseconds' ? 1000n : type === 'dateTimeNanoseconds' ? 1n : 0n;
      const diff = expected - ns;
      return diff >= -slack && diff <= slack ? null : `tshark shows ${t.show} (${ns} ns)`;
    }
    case 'ipv4Address': case 'ipv6Address': case 'macAddress':
      return t.show.toLowerCase() === (v as string).toLowerCase() ? null : `tshark shows ${t.show}`;
    case 'string':
      if (t.label.includes('[truncated]')) return t.show.length > 0 && (v as string).startsWith(t.show.slice(0, 64)) ? null : `tshark shows "${t.show.slice(0, 64)}…"`;
      return t.show === (v as string).replace(/\0+$/, '') ? null : `tshark shows ${JSON.stringify(t.show)}`;
    default:
      return null;
  }
}

/**
 * tshark 4.0 gives flow start/end time stamps wrong positions and sizes (an end time that precedes
 * its start time in the record is placed after the record; millisecond times are sized 4): these
 * are matched by kind and order instead of by position.
 */
const START_END_FIELDS: Record<string, string> = { 'cflow.abstimestart': 'Start', 'cflow.abstimeend': 'End' };

/**
 * Compares one record with tshark's fields of that record. `where` names the record in messages.
 */
export function compareRecord(template: Template, values: readonly FieldValue[], flow: readonly TsharkField[], where: string): string[] {
  const out: string[] = [];
  const octets = template.fields.map((f, k) => fieldOctets(f, values[k]));
  const sizes = template.fields.map((f, k) => octets[k]?.length ?? f.length);
  // tshark shows nothing for a variable-length field of zero octets.
  const shownCount = sizes.filter((n) => n > 0).length;
  if (flow.length !== shownCount) {
    out.push(`${where}: template ${template.id} has ${shownCount} non-empty fields, tshark shows ${flow.length}: ${flow.map((f) => f.label).join(' | ')}`);
    return out;
  }
  const byPos = new Map(flow.filter((t) => !START_END_FIELDS[t.name]).map((t) => [t.pos, t]));
  const times = { Start: flow.filter((t) => START_END_FIELDS[t.name] === 'Start'), End: flow.filter((t) => START_END_FIELDS[t.name] === 'End') };
  // Position of the record's first octet: tshark's first positioned field minus what precedes it.
  const offsets: number[] = [];
  let q = 0;
  template.fields.forEach((f, k) => {
    if (f.length === VARIABLE_LENGTH) q += lengthPrefixSize(sizes[k]);
    offsets.push(q);
    q += sizes[k];
  });
  const anchor = template.fields.findIndex((f, k) => sizes[k] > 0 && !isStartEnd(f.ie.name, f.ie.dataType));
  const base = anchor < 0 ? 0 : Math.min(...byPos.keys()) - offsets[anchor];

  template.fields.forEach((f, k) => {
    const v = values[k];
    const size = sizes[k];
    if (size === 0) return;
    const name = `${where} field ${k} (${f.ie.name} = ${show(v)})`;
    const bytes = octets[k];
    const kind = isStartEnd(f.ie.name, f.ie.dataType);
    const t = kind ? times[kind].shift() : byPos.get(base + offsets[k]);
    if (!t) {
      out.push(`${name}: tshark shows no field ${kind ? `for this ${kind.toLowerCase()} time` : `at offset ${base + offsets[k]}`}`);
      return;
    }
    if (!kind) {
      if (t.size !== size) out.push(`${name}: ${size} octets, tshark ${t.size}`);
      if (bytes && t.hex !== bytes.toString('hex')) out.push(`${name}: octets ${bytes.toString('hex')}, tshark ${t.hex}`);
    } else if (bytes && !bytes.toString('hex').startsWith(t.hex)) {
      out.push(`${name}: octets ${bytes.toString('hex')}, tshark ${t.hex}…`);
    }
    const pen = f.ie.enterpriseNumber;
    if (pen === PEN_REVERSE && !t.label.includes(`(Reverse Type ${f.ie.id} `)) out.push(`${name}: tshark's "${t.label}" is not reverse type ${f.ie.id}`);
    if (pen !== 0 && pen !== PEN_REVERSE) {
      const expected = `Enterprise Private entry: (${PEN_LABELS[pen] ?? pen}) Type ${f.ie.id}: `;
      if (!t.label.startsWith(expected)) out.push(`${name}: tshark's "${t.label}" does not start with "${expected}"`);
    }
    if (f.known && !RAW_FIELDS.has(t.name)) {
      const m = valueMismatch(f.ie.dataType, f.length === VARIABLE_LENGTH ? size : f.length, v, t);
      if (m) out.push(`${name}: ${m}`);
    }
  });
  return out;
}

/** "Start" / "End" for the flow start / end time stamps tshark shows as cflow.abstimestart / abstimeend. */
function isStartEnd(name: string, dataType: string): 'Start' | 'End' | null {
  if (!dataType.startsWith('dateTime')) return null;
  const m = /^flow(Start|End)(Seconds|Milliseconds|Microseconds|Nanoseconds)$/i.exec(name);
  return m ? (m[1] as 'Start' | 'End') : null;
}

/** What tshark shows of one message, flattened in wire order. */
export function tsharkContents(m: TsharkMessage): { templates: TsharkTemplate[]; withdrawals: number[]; records: Array<{ setId: number; flow: TsharkField[] }> } {
  const templates: TsharkTemplate[] = [];
  const withdrawals: number[] = [];
  const records: Array<{ setId: number; flow: TsharkField[] }> = [];
  for (const s of m.sets) {
    for (const t of s.templates) {
      if (t.fields.length === 0) withdrawals.push(t.id);
      else templates.push(t);
    }
    for (const flow of s.flows) records.push({ setId: s.setId, flow });
  }
  return { templates, withdrawals, records };
}

/** Compares our decode of one message (header, templates, withdrawals, records) with tshark's. */
export function compareMessage(ours: DecodedMessage, theirs: TsharkMessage, where: string): string[] {
  const out: string[] = [];
  const h = ours.header;
  if (!h) return [`${where}: we could not decode the header: ${ours.errors.map((e) => e.message).join('; ')}`];
  const header: Array<[string, number, number]> = [
    ['version', h.version, theirs.version], ['length', h.length, theirs.length], ['export time', h.exportTime, theirs.exportTime],
    ['sequence number', h.sequenceNumber, theirs.sequenceNumber], ['observation domain', h.observationDomainId, theirs.observationDomainId],
  ];
  for (const [name, a, b] of header) if (a !== b) out.push(`${where}: ${name} ${a}, tshark ${b}`);
  out.push(...ours.errors.map((e) => `${where}: our decoder reported ${e.code}: ${e.message}`));
  out.push(...theirs.problems.map((p) => `${where}: tshark reported: ${p}`));
  const t = tsharkContents(theirs);
  if (ours.templates.length !== t.templates.length) out.push(`${where}: ${ours.templates.length} templates, tshark ${t.templates.length}`);
  else ours.templates.forEach((tpl, i) => out.push(...compareTemplate(tpl, t.templates[i]).map((s) => `${where}: ${s}`)));
  if (ours.withdrawals.join() !== t.withdrawals.join()) out.push(`${where}: withdrawals [${ours.withdrawals}], tshark [${t.withdrawals}]`);
  if (ours.records.length !== t.records.length) {
    out.push(`${where}: ${ours.records.length} records, tshark ${t.records.length}`);
    return out;
  }
  ours.records.forEach((r, i) => {
    const rw = `${where} record ${i}`;
    if (r.template.id !== t.records[i].setId) out.push(`${rw}: template ${r.template.id}, tshark set ${t.records[i].setId}`);
    out.push(...compareRecord(r.template, r.values, t.records[i].flow, rw));
  });
  return out;
}
