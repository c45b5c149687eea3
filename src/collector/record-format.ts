/**
 * How the standalone collector prints decoded records.
 *
 * Text (like the go-ipfix collector): one block per record, a header line, then one
 * "    <name>: <value> " line per field, then an empty line.
 * JSON: one object per line; unsigned64/signed64 and NTP timestamps (bigint) are written as bare
 * JSON integers with every digit kept, octet arrays as lower-case hex strings.
 */
import type { DataRecord, FieldValue, MessageHeader } from '../ipfix/index.ts';
import type { CollectorSessionInfo } from '../transport/index.ts';

/** A record with where it came from. */
export interface CollectedRecord {
  readonly session: CollectorSessionInfo;
  readonly header: MessageHeader;
  readonly record: DataRecord;
  /** Position of the record in its message. */
  readonly recordIdx: number;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f]/g;
const escapeControl = (c: string): string => JSON.stringify(c).slice(1, -1);

/**
 * A value as text: numbers and bigints in decimal, strings as they are except that control
 * characters are escaped JSON-style (a value cannot break the block), octets as 0x-prefixed hex.
 */
export function formatValueText(v: FieldValue | undefined): string {
  if (v === undefined) return '';
  if (v instanceof Uint8Array) return '0x' + hex(v);
  if (typeof v === 'string') return CONTROL.test(v) ? v.replace(CONTROLS, escapeControl) : v;
  return String(v);
}

/** A value as JSON; bigints stay exact (bare integers). */
export function formatValueJson(v: FieldValue | undefined): string {
  switch (typeof v) {
    case 'bigint': return v.toString();
    case 'number': return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
    case 'boolean': return v ? 'true' : 'false';
    case 'string': return JSON.stringify(v);
    case 'undefined': return 'null';
    default: return '"' + hex(v) + '"';
  }
}

/** The field lines of a record, go-ipfix style: "    name: value \n" per field. */
export function formatRecordData(record: DataRecord): string {
  const names = record.template.names;
  const values = record.values;
  let s = '';
  for (let i = 0; i < names.length; i++) s += '    ' + names[i] + ': ' + formatValueText(values[i]) + ' \n';
  return s;
}

/** One text block: a header line, the field lines, an empty line. */
export function formatRecordText(r: CollectedRecord): string {
  const { session: s, header: h } = r;
  return `DATA RECORD-${r.recordIdx} exporter=${hostPort(s.exporterAddress, s.exporterPort)} transport=${s.transport} ` +
    `obsDomainID=${h.observationDomainId} templateID=${r.record.template.id} exportTime=${h.exportTime} sequenceNumber=${h.sequenceNumber}\n` +
    formatRecordData(r.record) + '\n';
}

/** One JSON line (without the newline). */
export function formatRecordJson(r: CollectedRecord): string {
  const { session: s, header: h, record } = r;
  const names = record.template.names;
  const values = record.values;
  let data = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) data += ',';
    data += JSON.stringify(names[i]) + ':' + formatValueJson(values[i]);
  }
  return `{"exporterAddress":${JSON.stringify(s.exporterAddress)},"exporterPort":${s.exporterPort},"transport":"${s.transport}",` +
    `"exportTime":${h.exportTime},"sequenceNumber":${h.sequenceNumber},"obsDomainID":${h.observationDomainId},` +
    `"templateID":${record.template.id},"recordIdx":${r.recordIdx},"data":{${data}}}`;
}

/** How one record is printed for an output format (a block, or a line with its newline); null: not printed. */
export function recordPrinter(output: 'text' | 'json' | 'none'): ((r: CollectedRecord) => string) | null {
  if (output === 'json') return (r) => formatRecordJson(r) + '\n';
  return output === 'text' ? formatRecordText : null;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
