/**
 * tshark (Wireshark 4.0) as an independent IPFIX decoder: runs it on a pcap file with the IPFIX
 * ("cflow") dissector on the given UDP ports, reads its PDML, and turns the dissection tree into
 * messages → sets → templates / flows → fields, each field with tshark's label, displayed value,
 * raw octets and position (relative to the start of the IPFIX message).
 */
import { run } from './process.ts';
import { parseXml, walk, type XmlElement } from './pdml.ts';

export interface TsharkField {
  /** tshark's field name, e.g. "cflow.srcaddr"; "" for unnamed wrappers (e.g. MPLS label stacks). */
  readonly name: string;
  /** The line tshark displays, e.g. "Octets: 1015 (Reverse Type 1 BYTES)". */
  readonly label: string;
  /** tshark's value text, e.g. "10.1.2.10", "1015", "Nov 14, 2023 22:13:20.000000000 UTC". */
  readonly show: string;
  /** The field's octets as tshark delimited them (hex). */
  readonly hex: string;
  /** Offset from the start of the IPFIX message. */
  readonly pos: number;
  readonly size: number;
}

export interface TsharkTemplateField {
  readonly id: number;
  readonly enterpriseNumber: number;
  readonly length: number;
  readonly scope: boolean;
  /** e.g. "Field (13/42): PACKETS_TOTAL [Reverse]". */
  readonly label: string;
  /** e.g. "PEN: IPFIX Reverse Information Element Private Enterprise (29305)"; "" without a PEN. */
  readonly penLabel: string;
}

export interface TsharkTemplate {
  readonly id: number;
  readonly options: boolean;
  readonly scopeFieldCount: number;
  readonly fields: TsharkTemplateField[];
}

export interface TsharkSet {
  readonly setId: number;
  readonly length: number;
  /** Template records (set 2 or 3); a withdrawal has no fields. */
  readonly templates: TsharkTemplate[];
  /** Data records (set ≥ 256), fields in wire order. */
  readonly flows: TsharkField[][];
}

export interface TsharkMessage {
  readonly frame: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly version: number;
  readonly length: number;
  readonly exportTime: number;
  readonly sequenceNumber: number;
  readonly observationDomainId: number;
  readonly sets: TsharkSet[];
  /** Expert infos and malformed-packet notes tshark attached to the IPFIX part. */
  readonly problems: string[];
}

export interface TsharkOptions {
  /** UDP ports to dissect as IPFIX (4739 is already the default). */
  udpPorts?: readonly number[];
  timeoutMs?: number;
}

/** Runs tshark on `pcapPath` and returns the PDML document. */
export async function tsharkPdml(pcapPath: string, options: TsharkOptions = {}): Promise<string> {
  // Antrea's aggregator template has 69 fields; tshark ignores templates of more than 60 unless told.
  const args = ['-n', '-o', 'cflow.max_template_fields:0', '-r', pcapPath, '-T', 'pdml'];
  for (const port of options.udpPorts ?? []) args.push('-d', `udp.port==${port},cflow`);
  const r = await run('tshark', args, { timeoutMs: options.timeoutMs ?? 30_000, env: { ...process.env, TZ: 'UTC', LC_ALL: 'C.UTF-8' } });
  return r.stdout;
}

/** tshark's decode of every IPFIX message in the capture. */
export async function tsharkDecode(pcapPath: string, options: TsharkOptions = {}): Promise<TsharkMessage[]> {
  return messagesFromPdml(await tsharkPdml(pcapPath, options));
}

const num = (s: string | undefined): number => (s === undefined ? NaN : Number(s));

function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.attrs.name === name);
}

function childShow(el: XmlElement, name: string): string | undefined {
  return child(el, name)?.attrs.show;
}

/** Fields of one "Flow N" subtree in wire order: sized fields; zero-size wrappers are opened. */
function flowFields(flow: XmlElement, base: number): TsharkField[] {
  const out: TsharkField[] = [];
  const visit = (el: XmlElement): void => {
    for (const c of el.children) {
      if (c.tag !== 'field') continue;
      if (num(c.attrs.size) > 0) {
        out.push({
          name: c.attrs.name ?? '',
          label: c.attrs.showname ?? c.attrs.show ?? '',
          show: c.attrs.show ?? '',
          hex: c.attrs.value ?? '',
          pos: num(c.attrs.pos) - base,
          size: num(c.attrs.size),
        });
      } else {
        visit(c);
      }
    }
  };
  visit(flow);
  // tshark emits some fields (time stamps) after the others; wire order is by position.
  return out.sort((a, b) => a.pos - b.pos);
}

function templateOf(el: XmlElement, options: boolean): TsharkTemplate {
  const id = num(childShow(el, 'cflow.template_id'));
  const fields: TsharkTemplateField[] = [];
  for (const f of el.children) {
    const label = f.attrs.show ?? '';
    if (!label.startsWith('Field (')) continue;
    const type = childShow(f, 'cflow.template_ipfix_field_type') ?? childShow(f, 'cflow.template_ipfix_field_type_enterprise');
    const pen = child(f, 'cflow.template_ipfix_field_pen');
    fields.push({
      id: num(type),
      enterpriseNumber: pen ? num(pen.attrs.show) : 0,
      length: num(childShow(f, 'cflow.template_field_length')),
      scope: label.includes('[Scope]'),
      label,
      penLabel: pen?.attrs.showname ?? '',
    });
  }
  const scope = childShow(el, 'cflow.template_ipfix_scope_field_count');
  return { id, options, scopeFieldCount: scope === undefined ? 0 : num(scope), fields };
}

function setOf(el: XmlElement, base: number): TsharkSet {
  const setId = num(childShow(el, 'cflow.flowset_id'));
  const length = num(childShow(el, 'cflow.flowset_length'));
  const templates: TsharkTemplate[] = [];
  const flows: TsharkField[][] = [];
  for (const c of el.children) {
    const show = c.attrs.show ?? '';
    // A withdrawal shows as a template with "Count = 0" and no fields.
    if (/^(Options )?Template \(Id/.test(show)) templates.push(templateOf(c, show.startsWith('Options')));
    else if (/^Flow \d+/.test(show)) flows.push(flowFields(c, base));
  }
  return { setId, length, templates, flows };
}

/** Parses tshark's PDML into IPFIX messages (one per frame that carries IPFIX). */
export function messagesFromPdml(pdml: string): TsharkMessage[] {
  const doc = parseXml(pdml);
  const out: TsharkMessage[] = [];
  const pdmlRoot = doc.children.find((c) => c.tag === 'pdml');
  for (const packet of pdmlRoot?.children ?? []) {
    const protos = packet.children.filter((c) => c.tag === 'proto');
    const frame = num(protos.find((p) => p.attrs.name === 'geninfo')?.children.find((f) => f.attrs.name === 'num')?.attrs.show);
    const udp = protos.find((p) => p.attrs.name === 'udp');
    const problems: string[] = [];
    for (const p of protos) {
      if (p.attrs.name === '_ws.malformed') problems.push(p.attrs.showname ?? 'malformed');
    }
    for (const cflow of protos.filter((p) => p.attrs.name === 'cflow')) {
      const base = num(cflow.attrs.pos);
      for (const f of walk(cflow)) {
        if (f.attrs.name === '_ws.expert') problems.push(f.attrs.showname ?? 'expert info');
        if (f.attrs.name === '_ws.malformed') problems.push(f.attrs.showname ?? 'malformed');
      }
      const timestamp = child(cflow, 'cflow.timestamp');
      out.push({
        frame,
        srcPort: num(udp && childShow(udp, 'udp.srcport')),
        dstPort: num(udp && childShow(udp, 'udp.dstport')),
        version: num(childShow(cflow, 'cflow.version')),
        length: num(childShow(cflow, 'cflow.len')),
        exportTime: num(timestamp && childShow(timestamp, 'cflow.exporttime')),
        sequenceNumber: num(childShow(cflow, 'cflow.sequence')),
        observationDomainId: num(childShow(cflow, 'cflow.od_id')),
        sets: cflow.children.filter((c) => (c.attrs.show ?? '').startsWith('Set ')).map((s) => setOf(s, base)),
        problems,
      });
    }
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** tshark's absolute time text ("Nov 14, 2023 22:13:20.123456789 UTC") as nanoseconds since the epoch. */
export function tsharkTimeNanos(show: string): bigint {
  const m = /^([A-Z][a-z]{2}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? UTC$/.exec(show);
  if (!m) throw new Error(`not a tshark UTC time: ${JSON.stringify(show)}`);
  const month = MONTHS.indexOf(m[1]);
  const secs = Date.UTC(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
  return BigInt(secs) * 1_000_000_000n + BigInt((m[7] ?? '0').padEnd(9, '0'));
}
