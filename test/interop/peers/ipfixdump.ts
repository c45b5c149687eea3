/**
 * ipfixDump (libfixbuf 2.4) as an independent reader of IPFIX files (RFC 5655: messages back to
 * back). It exits 0 even on a bad file and reports problems on stderr, so callers check stderr and
 * the final statistics line. Its text output, parsed here:
 *
 *   --- Message Header ---
 *   export time: 2025-11-13 02:13:20	observation domain id: 1592594996
 *   message length: 896             	sequence number: 12 (0xc)
 *   --- template record ---  |  --- options template record ---
 *   	tid:   256 (0x0100)    field count:    42    scope:     0
 *   	ent: 29305  id:    86  type: uint64    len:     8     reversePacketTotalCount
 *   --- data record 1 ---
 *   	count: 42      tid:   256 (0x0100)
 *   	(29305/86)       reversePacketTotalCount : 1012
 *   	(144) (S)             exportingProcessId : 42
 *   *** File Stats: 1 Messages, 1 Data Records, 1 Template Records ***
 *
 * Elements ipfixDump does not know print as "_alienInformationElement"; an element file
 * (`--element-file`, libfixbuf's XML registry format, written by elementRegistryXml) names them.
 */
import type { InformationElement } from '../../../src/ipfix/index.ts';
import { run } from './process.ts';

export interface DumpMessage {
  exportTime: string;
  observationDomainId: number;
  length: number;
  sequenceNumber: number;
}

export interface DumpTemplateField { enterpriseNumber: number; id: number; type: string; length: number; scope: boolean; name: string }
export interface DumpTemplate { id: number; options: boolean; scopeFieldCount: number; fields: DumpTemplateField[] }
export interface DumpField { enterpriseNumber: number; id: number; scope: boolean; name: string; text: string }
export interface DumpRecord { templateId: number; fields: DumpField[] }

export interface IpfixDump {
  messages: DumpMessage[];
  templates: DumpTemplate[];
  records: DumpRecord[];
  stats: { messages: number; dataRecords: number; templateRecords: number } | null;
  stderr: string;
}

export async function ipfixDump(file: string, options: { elementFile?: string; hexdump?: number } = {}): Promise<IpfixDump> {
  const args = ['--in', file];
  if (options.elementFile) args.push('--element-file', options.elementFile);
  if (options.hexdump) args.push(`--hexdump=${options.hexdump}`);
  const r = await run('ipfixDump', args, { timeoutMs: 30_000, env: { ...process.env, TZ: 'UTC' } });
  return { ...parseIpfixDump(r.stdout), stderr: r.stderr };
}

export function parseIpfixDump(text: string): Omit<IpfixDump, 'stderr'> {
  const out: Omit<IpfixDump, 'stderr'> = { messages: [], templates: [], records: [], stats: null };
  let template: DumpTemplate | null = null;
  let record: DumpRecord | null = null;
  let m: RegExpExecArray | null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\0+/g, '');
    if ((m = /^export time: (.+?)\s+observation domain id: (\d+)/.exec(line))) {
      out.messages.push({ exportTime: m[1], observationDomainId: Number(m[2]), length: NaN, sequenceNumber: NaN });
    } else if ((m = /^message length: (\d+)\s+sequence number: (\d+)/.exec(line))) {
      const msg = out.messages[out.messages.length - 1];
      msg.length = Number(m[1]);
      msg.sequenceNumber = Number(m[2]);
    } else if ((m = /^--- (options )?template record ---/.exec(line))) {
      template = { id: NaN, options: Boolean(m[1]), scopeFieldCount: 0, fields: [] };
      record = null;
      out.templates.push(template);
    } else if ((m = /^--- data record \d+ ---/.exec(line))) {
      record = { templateId: NaN, fields: [] };
      template = null;
      out.records.push(record);
    } else if (template && (m = /^\ttid:\s+(\d+) .*field count:\s+(\d+)\s+scope:\s+(\d+)/.exec(line))) {
      template.id = Number(m[1]);
      template.scopeFieldCount = Number(m[3]);
    } else if (template && (m = /^\tent:\s+(\d+)\s+id:\s+(\d+)\s+type:\s+(\S+)\s+len:\s+(\d+)\s+(\(S\))?\s*(\S+)/.exec(line))) {
      template.fields.push({ enterpriseNumber: Number(m[1]), id: Number(m[2]), type: m[3], length: Number(m[4]), scope: Boolean(m[5]), name: m[6] });
    } else if (record && (m = /^\tcount:\s+\d+\s+tid:\s+(\d+)/.exec(line))) {
      record.templateId = Number(m[1]);
    } else if (record && (m = /^\t\((?:(\d+)\/)?(\d+)\)( \(S\))?\s*(\S+) : (.*)$/.exec(line))) {
      record.fields.push({ enterpriseNumber: Number(m[1] ?? 0), id: Number(m[2]), scope: Boolean(m[3]), name: m[4], text: m[5] });
    } else if ((m = /^\*\*\* File Stats: (\d+) Messages, (\d+) Data Records, (\d+) Template Records/.exec(line))) {
      out.stats = { messages: Number(m[1]), dataRecords: Number(m[2]), templateRecords: Number(m[3]) };
    }
  }
  return out;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An information element registry in libfixbuf's XML format (as its cert_ipfix.xml), for --element-file. */
export function elementRegistryXml(id: string, elements: Iterable<InformationElement>): string {
  const records = [...elements].map((ie) => [
    '    <record>',
    `      <name>${xmlEscape(ie.name)}</name>`,
    `      <dataType>${ie.dataType}</dataType>`,
    `      <cert:enterpriseId>${ie.enterpriseNumber}</cert:enterpriseId>`,
    `      <elementId>${ie.id}</elementId>`,
    '    </record>',
  ].join('\n'));
  return [
    "<?xml version='1.0' encoding='UTF-8'?>",
    `<registry id="${xmlEscape(id)}" xmlns="http://www.iana.org/assignments" xmlns:cert="http://www.cert.org/ipfix">`,
    `  <registry id="${xmlEscape(id)}-information-elements">`,
    ...records,
    '  </registry>',
    '</registry>',
    '',
  ].join('\n');
}
