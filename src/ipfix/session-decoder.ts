/**
 * Decodes IPFIX messages of one transport session (RFC 7011 §3, §8): several sets per message,
 * several template records per set, options templates, template withdrawal, reduced-size
 * encoding, set padding, unknown information elements kept as raw octets with their (PEN, id).
 *
 * Nothing throws out of decodeMessage(): every problem becomes a typed IpfixError carrying the byte
 * offset (from the start of the message) and a reason; what could be decoded is still returned.
 */
import { IpfixError } from '../errors.ts';
import {
  IPFIX_VERSION, MESSAGE_HEADER_LENGTH, MIN_DATA_SET_ID, OPTIONS_TEMPLATE_SET_ID, SET_HEADER_LENGTH,
  TEMPLATE_SET_ID, VARIABLE_LENGTH,
} from './constants.ts';
import { DEFAULT_LENGTH, isValidFieldLength, type FieldValue } from './data-types.ts';
import { defaultModel, type InformationModel } from './information-model.ts';
import { TemplateCache } from './template-cache.ts';
import { Template, unknownElement, type TemplateField } from './template.ts';

export interface MessageHeader {
  readonly version: number;
  readonly length: number;
  /** Seconds since the Unix epoch. */
  readonly exportTime: number;
  readonly sequenceNumber: number;
  readonly observationDomainId: number;
}

/** A decoded data record: its template plus the values in template order. */
export interface DataRecord {
  readonly template: Template;
  readonly values: FieldValue[];
  readonly header: MessageHeader;
}

export interface DecodedMessage {
  /** Null when the message header itself was unusable. */
  readonly header: MessageHeader | null;
  readonly records: DataRecord[];
  /** Templates defined (or re-defined) by this message. */
  readonly templates: Template[];
  /** IDs of templates withdrawn by this message (2 / 3 stand for "all data / options templates"). */
  readonly withdrawals: number[];
  readonly errors: IpfixError[];
  /** Data sets that referred to a template this session does not know. */
  unknownTemplateSets: number;
  /** Data records in sets for unknown templates are not counted; these are decoded ones. */
  readonly dataSetCount: number;
}

export type TransportKind = 'udp' | 'tcp' | 'tls' | 'sctp' | 'file';

export interface SessionDecoderOptions {
  transport: TransportKind;
  model?: InformationModel;
  /** UDP template lifetime in ms (default 1800 s, as go-ipfix: 3 × the 600 s refresh). */
  templateLifetimeMs?: number;
  /** UDP only: hold data sets for unknown templates this long, waiting for the template (0 = off). */
  holdUnknownMs?: number;
  /** Maximum number of held data sets (default 256). */
  maxHeldSets?: number;
  /** Clock in milliseconds (injected for tests). */
  now?: () => number;
}

interface HeldSet {
  domain: number;
  templateId: number;
  bytes: Buffer;
  header: MessageHeader;
  until: number;
}

export class SessionDecoder {
  readonly transport: TransportKind;
  readonly templates: TemplateCache;
  private readonly model: InformationModel;
  private readonly now: () => number;
  private readonly holdMs: number;
  private readonly maxHeld: number;
  private held: HeldSet[] = [];
  private readonly cursor = { p: 0 };
  /** Sets that were held and later decoded, and held sets that expired. */
  heldDecoded = 0;
  heldExpired = 0;

  constructor(options: SessionDecoderOptions) {
    this.transport = options.transport;
    this.model = options.model ?? defaultModel;
    this.now = options.now ?? Date.now;
    const lifetime = options.transport === 'udp' ? options.templateLifetimeMs ?? 1_800_000 : Infinity;
    this.templates = new TemplateCache(lifetime, this.now);
    this.holdMs = options.transport === 'udp' ? options.holdUnknownMs ?? 0 : 0;
    this.maxHeld = options.maxHeldSets ?? 256;
  }

  /** Decodes one whole message; `msg` must hold exactly one message (a datagram or a framed one). */
  decodeMessage(msg: Buffer): DecodedMessage {
    const result: DecodedMessage = { header: null, records: [], templates: [], withdrawals: [], errors: [], unknownTemplateSets: 0, dataSetCount: 0 };
    const header = parseHeader(msg, result.errors);
    if (!header) return result;
    (result as { header: MessageHeader | null }).header = header;
    const end = header.length;
    if (msg.length > end) {
      result.errors.push(new IpfixError('TRAILING_OCTETS', `${msg.length - end} octets follow the message's announced length ${end}`, { offset: end }));
    }
    let p = MESSAGE_HEADER_LENGTH;
    let dataSets = 0;
    while (p < end) {
      if (end - p < SET_HEADER_LENGTH) {
        result.errors.push(new IpfixError('SET_TOO_SHORT', `${end - p} octets left at the end of the message, less than a set header`, { offset: p }));
        break;
      }
      const setId = msg.readUInt16BE(p);
      const setLen = msg.readUInt16BE(p + 2);
      if (setLen < SET_HEADER_LENGTH) {
        result.errors.push(new IpfixError('SET_TOO_SHORT', `set ${setId} announces length ${setLen}, less than its 4-octet header`, { offset: p, setId }));
        break;
      }
      if (p + setLen > end) {
        result.errors.push(new IpfixError('SET_BEYOND_MESSAGE', `set ${setId} of length ${setLen} at offset ${p} runs past the message end ${end}`, { offset: p, setId }));
        break;
      }
      const body = p + SET_HEADER_LENGTH;
      const setEnd = p + setLen;
      if (setId === TEMPLATE_SET_ID || setId === OPTIONS_TEMPLATE_SET_ID) {
        this.decodeTemplateSet(msg, body, setEnd, setId === OPTIONS_TEMPLATE_SET_ID, header, result);
      } else if (setId >= MIN_DATA_SET_ID) {
        dataSets++;
        this.decodeDataSet(msg, body, setEnd, setId, header, result);
      } else {
        result.errors.push(new IpfixError('RESERVED_SET_ID', `set ID ${setId} is reserved; set skipped`, { offset: p, setId }));
      }
      p = setEnd;
    }
    (result as { dataSetCount: number }).dataSetCount = dataSets;
    return result;
  }

  /** Held sets whose template never came are dropped after holdUnknownMs; returns how many. */
  expireHeld(): number {
    if (this.held.length === 0) return 0;
    const now = this.now();
    const before = this.held.length;
    this.held = this.held.filter((h) => h.until > now);
    const n = before - this.held.length;
    this.heldExpired += n;
    return n;
  }

  get heldSetCount(): number {
    return this.held.length;
  }

  private decodeTemplateSet(msg: Buffer, p: number, end: number, options: boolean, header: MessageHeader, out: DecodedMessage): void {
    const domain = header.observationDomainId;
    const minHeader = options ? 6 : 4;
    while (end - p >= 4) {
      const templateId = msg.readUInt16BE(p);
      const fieldCount = msg.readUInt16BE(p + 2);
      if (templateId === 0 && fieldCount === 0 && isZero(msg, p, end)) return; // padding
      if (fieldCount === 0) {
        this.withdraw(templateId, domain, p, out);
        p += 4;
        continue;
      }
      if (templateId < MIN_DATA_SET_ID) {
        out.errors.push(new IpfixError('BAD_TEMPLATE_ID', `template ID ${templateId} is below 256; rest of the template set skipped`, { offset: p, templateId }));
        return;
      }
      if (end - p < minHeader) {
        out.errors.push(new IpfixError('TEMPLATE_BEYOND_SET', `options template ${templateId} header runs past its set`, { offset: p, templateId }));
        return;
      }
      const scopeCount = options ? msg.readUInt16BE(p + 4) : 0;
      if (options && (scopeCount === 0 || scopeCount > fieldCount)) {
        this.templates.delete(domain, templateId);
        out.errors.push(new IpfixError('BAD_SCOPE_COUNT', `options template ${templateId} has scope field count ${scopeCount} of ${fieldCount} fields`, { offset: p, templateId }));
        return;
      }
      const recordStart = p;
      p += minHeader;
      const fields: TemplateField[] = [];
      let failure: IpfixError | null = null;
      for (let i = 0; i < fieldCount; i++) {
        if (end - p < 4) {
          failure = new IpfixError('TEMPLATE_BEYOND_SET', `template ${templateId} announces ${fieldCount} fields but its set ends after ${i}`, { offset: p, templateId });
          break;
        }
        const rawId = msg.readUInt16BE(p);
        const length = msg.readUInt16BE(p + 2);
        p += 4;
        let pen = 0;
        if (rawId & 0x8000) {
          if (end - p < 4) {
            failure = new IpfixError('TEMPLATE_BEYOND_SET', `enterprise number of field ${i} of template ${templateId} runs past its set`, { offset: p, templateId });
            break;
          }
          pen = msg.readUInt32BE(p);
          p += 4;
        }
        const id = rawId & 0x7fff;
        const ie = this.model.get(pen, id);
        if (!ie) {
          fields.push({ ie: unknownElement(pen, id, length), length, known: false });
          continue;
        }
        const lengthOk = length === VARIABLE_LENGTH ? DEFAULT_LENGTH[ie.dataType] === null : isValidFieldLength(ie.dataType, length);
        if (!lengthOk) {
          failure = new IpfixError('BAD_FIELD_LENGTH', `template ${templateId} field ${i} (${ie.name}, ${ie.dataType}) has invalid length ${length}`, { offset: p - 4, templateId, length });
          break;
        }
        fields.push({ ie, length, known: true });
      }
      if (failure) {
        // A template that failed to decode must not leave an older definition in place.
        this.templates.delete(domain, templateId);
        out.errors.push(failure);
        return;
      }
      if (fields.every((f) => f.length === 0)) {
        out.errors.push(new IpfixError('EMPTY_TEMPLATE', `template ${templateId} has only zero-length fields`, { offset: recordStart, templateId }));
        this.templates.delete(domain, templateId);
        continue;
      }
      const template = this.templates.set(domain, new Template(templateId, fields, scopeCount));
      out.templates.push(template);
      if (this.held.length > 0) this.releaseHeld(domain, templateId, out);
    }
    if (p < end && !isZero(msg, p, end)) {
      out.errors.push(new IpfixError('BAD_PADDING', `${end - p} trailing octets in a template set are not zero padding`, { offset: p }));
    }
  }

  private withdraw(templateId: number, domain: number, offset: number, out: DecodedMessage): void {
    if (this.transport === 'udp') {
      // RFC 7011 §8.4: template withdrawals are not sent over UDP; a collector ignores them.
      out.errors.push(new IpfixError('WITHDRAWAL_OVER_UDP', `template withdrawal of ${templateId} received over UDP; ignored`, { offset, templateId }));
      return;
    }
    if (templateId === TEMPLATE_SET_ID || templateId === OPTIONS_TEMPLATE_SET_ID) {
      this.templates.deleteAll(domain, templateId === OPTIONS_TEMPLATE_SET_ID);
      out.withdrawals.push(templateId);
      return;
    }
    if (templateId < MIN_DATA_SET_ID) {
      out.errors.push(new IpfixError('BAD_TEMPLATE_ID', `withdrawal of template ID ${templateId}, which is below 256`, { offset, templateId }));
      return;
    }
    if (!this.templates.delete(domain, templateId)) {
      out.errors.push(new IpfixError('UNKNOWN_TEMPLATE_WITHDRAWN', `withdrawal of template ${templateId}, which is not defined`, { offset, templateId }));
      return;
    }
    out.withdrawals.push(templateId);
  }

  private decodeDataSet(msg: Buffer, p: number, end: number, templateId: number, header: MessageHeader, out: DecodedMessage): void {
    const template = this.templates.get(header.observationDomainId, templateId);
    if (!template) {
      out.unknownTemplateSets++;
      if (this.holdMs > 0) this.hold(msg, p, end, templateId, header);
      return;
    }
    this.decodeRecords(template, msg, p, end, header, out);
  }

  private decodeRecords(template: Template, msg: Buffer, p: number, end: number, header: MessageHeader, out: DecodedMessage): void {
    const min = template.minRecordLength;
    const decode = template.decode;
    const c = this.cursor;
    c.p = p;
    let n = 0;
    try {
      // What is left after the last record and shorter than one record is padding (RFC 7011 §3.3.1).
      while (end - c.p >= min) {
        const start = c.p;
        const values = decode(msg, c, end);
        if (c.p === start) break; // zero-length records cannot advance
        out.records.push({ template, values, header });
        n++;
      }
    } catch (e) {
      out.errors.push(e instanceof IpfixError ? e : new IpfixError('DECODE_FAILED', String(e), { offset: c.p, templateId: template.id }));
      return;
    }
    if (n === 0 && end > p) {
      out.errors.push(new IpfixError('DATA_SET_TOO_SHORT', `data set for template ${template.id} has ${end - p} octets, less than one record (${min})`, { offset: p, templateId: template.id }));
    }
  }

  private hold(msg: Buffer, p: number, end: number, templateId: number, header: MessageHeader): void {
    if (this.held.length >= this.maxHeld) {
      this.held.shift();
      this.heldExpired++;
    }
    this.held.push({ domain: header.observationDomainId, templateId, bytes: Buffer.from(msg.subarray(p, end)), header, until: this.now() + this.holdMs });
  }

  private releaseHeld(domain: number, templateId: number, out: DecodedMessage): void {
    const now = this.now();
    const keep: HeldSet[] = [];
    for (const h of this.held) {
      if (h.domain === domain && h.templateId === templateId && h.until > now) {
        const template = this.templates.get(domain, templateId);
        if (template) this.decodeRecords(template, h.bytes, 0, h.bytes.length, h.header, out);
        this.heldDecoded++;
      } else {
        keep.push(h);
      }
    }
    this.held = keep;
  }
}

function isZero(b: Buffer, p: number, end: number): boolean {
  for (let i = p; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

/** Parses and validates a message header; on failure pushes the error and returns null. */
export function parseHeader(msg: Buffer, errors: IpfixError[]): MessageHeader | null {
  if (msg.length < MESSAGE_HEADER_LENGTH) {
    errors.push(new IpfixError('MESSAGE_TOO_SHORT', `message of ${msg.length} octets is shorter than the 16-octet header`, { offset: 0 }));
    return null;
  }
  const version = msg.readUInt16BE(0);
  if (version !== IPFIX_VERSION) {
    errors.push(new IpfixError('BAD_VERSION', `version ${version} is not IPFIX (10)`, { offset: 0, version }));
    return null;
  }
  const length = msg.readUInt16BE(2);
  if (length < MESSAGE_HEADER_LENGTH) {
    errors.push(new IpfixError('BAD_MESSAGE_LENGTH', `message length ${length} is shorter than its header`, { offset: 2, length }));
    return null;
  }
  if (length > msg.length) {
    errors.push(new IpfixError('MESSAGE_TRUNCATED', `message announces ${length} octets but only ${msg.length} arrived`, { offset: 2, length }));
    return null;
  }
  return {
    version,
    length,
    exportTime: msg.readUInt32BE(4),
    sequenceNumber: msg.readUInt32BE(8),
    observationDomainId: msg.readUInt32BE(12),
  };
}
