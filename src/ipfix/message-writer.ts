/**
 * Builds IPFIX messages (RFC 7011 §3):
 *
 *   Message header (16):  version=10 (2) | length (2) | export time (4) | sequence number (4) | observation domain ID (4)
 *   Set header (4):       set ID (2) | length (2)           set ID 2 = templates, 3 = options templates, ≥ 256 = data
 *   Template record:      template ID (2) | field count (2) [| scope field count (2)] | field specifiers
 *   Field specifier:      E|element ID (2) | length (2) [| enterprise number (4) when E=1]
 *
 * Consecutive records of one template share a data set; a message holds as many sets and records as
 * fit in `maxMessageSize`, and a record is never split. The sequence number of a message is the
 * number of data records sent before it in this observation domain (mod 2^32).
 */
import { IpfixError } from '../errors.ts';
import {
  IPFIX_VERSION, MAX_MESSAGE_LENGTH, MESSAGE_HEADER_LENGTH, OPTIONS_TEMPLATE_SET_ID, SET_HEADER_LENGTH, TEMPLATE_SET_ID,
} from './constants.ts';
import type { FieldValue } from './data-types.ts';
import { BufferFull } from './record-codec.ts';
import type { Template } from './template.ts';

export const MIN_MESSAGE_SIZE = 256;

export interface MessageWriterOptions {
  observationDomainId: number;
  /** Largest message to produce, 256..65535 (default 65535). */
  maxMessageSize?: number;
  /** Export time source in seconds since the Unix epoch. */
  clock?: () => number;
  /** Sequence number of the first message (default 0). */
  initialSequenceNumber?: number;
}

type OpenSet = { id: number; start: number } | null;

export class MessageWriter {
  readonly observationDomainId: number;
  readonly maxMessageSize: number;
  private readonly clock: () => number;
  private buf: Buffer;
  private offset = MESSAGE_HEADER_LENGTH;
  private set: OpenSet = null;
  private recordsInMessage = 0;
  private finished: Buffer[] = [];
  /** Data records sent before the message being built (the next header's sequence number). */
  private sequence: number;
  /** Data records written so far (all messages). */
  recordCount = 0;
  messageCount = 0;

  constructor(options: MessageWriterOptions) {
    const max = options.maxMessageSize ?? MAX_MESSAGE_LENGTH;
    if (!Number.isInteger(max) || max < MIN_MESSAGE_SIZE || max > MAX_MESSAGE_LENGTH) {
      throw new IpfixError('BAD_MESSAGE_SIZE', `maximum message size ${max} is outside ${MIN_MESSAGE_SIZE}..${MAX_MESSAGE_LENGTH}`, { maxMessageSize: max });
    }
    this.observationDomainId = options.observationDomainId >>> 0;
    this.maxMessageSize = max;
    this.clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    this.sequence = (options.initialSequenceNumber ?? 0) >>> 0;
    this.buf = Buffer.allocUnsafe(max);
  }

  /** Sequence number the next message will carry. */
  get sequenceNumber(): number {
    return this.sequence;
  }

  /** True when the message under construction holds at least one set. */
  get hasPendingData(): boolean {
    return this.offset > MESSAGE_HEADER_LENGTH;
  }

  /** Appends a template (or options template) record. */
  addTemplate(template: Template): void {
    const setId = template.isOptionsTemplate ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID;
    const headerLen = template.isOptionsTemplate ? 6 : 4;
    let size = headerLen;
    for (const f of template.fields) size += f.ie.enterpriseNumber === 0 ? 4 : 8;
    this.reserve(setId, size, () => {
      const b = this.buf;
      let p = this.offset;
      b.writeUInt16BE(template.id, p);
      b.writeUInt16BE(template.fields.length, p + 2);
      if (template.isOptionsTemplate) b.writeUInt16BE(template.scopeFieldCount, p + 4);
      p += headerLen;
      for (const f of template.fields) {
        const pen = f.ie.enterpriseNumber;
        b.writeUInt16BE(pen === 0 ? f.ie.id : f.ie.id | 0x8000, p);
        b.writeUInt16BE(f.length, p + 2);
        p += 4;
        if (pen !== 0) { b.writeUInt32BE(pen, p); p += 4; }
      }
      return p;
    });
  }

  /**
   * Appends a template withdrawal (RFC 7011 §8.1): a template record with no fields. `templateId`
   * 2 withdraws all data templates of the domain, 3 all options templates.
   */
  withdrawTemplate(templateId: number, options = false): void {
    const setId = options || templateId === OPTIONS_TEMPLATE_SET_ID ? OPTIONS_TEMPLATE_SET_ID : TEMPLATE_SET_ID;
    this.reserve(setId, 4, () => {
      this.buf.writeUInt16BE(templateId, this.offset);
      this.buf.writeUInt16BE(0, this.offset + 2);
      return this.offset + 4;
    });
  }

  /** Appends one data record of `template`; values are in template order. */
  addRecord(template: Template, values: readonly (FieldValue | undefined)[]): void {
    this.reserve(template.id, template.minRecordLength, () => template.encode(values, this.buf, this.offset));
    this.recordsInMessage++;
    this.recordCount++;
  }

  /** Closes the message under construction (if any) so that drain() returns it. */
  flush(): void {
    if (!this.hasPendingData) return;
    this.closeSet();
    const b = this.buf;
    const len = this.offset;
    b.writeUInt16BE(IPFIX_VERSION, 0);
    b.writeUInt16BE(len, 2);
    b.writeUInt32BE(this.clock() >>> 0, 4);
    b.writeUInt32BE(this.sequence, 8);
    b.writeUInt32BE(this.observationDomainId, 12);
    this.finished.push(Buffer.from(b.subarray(0, len)));
    this.sequence = (this.sequence + this.recordsInMessage) >>> 0;
    this.messageCount++;
    this.recordsInMessage = 0;
    this.offset = MESSAGE_HEADER_LENGTH;
  }

  /** Returns the finished messages and forgets them. */
  drain(): Buffer[] {
    const out = this.finished;
    this.finished = [];
    return out;
  }

  /** Number of finished messages waiting for drain(). */
  get pendingMessages(): number {
    return this.finished.length;
  }

  /**
   * Writes one record into set `setId`, opening the set if needed; when it does not fit, the
   * message is finished and the record goes into a new one. `write` returns the new offset.
   */
  private reserve(setId: number, minSize: number, write: () => number): void {
    for (let attempt = 0; ; attempt++) {
      const start = this.offset;
      const opening = this.set === null || this.set.id !== setId;
      if (start + (opening ? SET_HEADER_LENGTH : 0) + minSize <= this.maxMessageSize) {
        if (opening) {
          this.closeSet();
          this.set = { id: setId, start };
          this.offset += SET_HEADER_LENGTH;
        }
        try {
          this.offset = write();
          return;
        } catch (e) {
          this.rollback(opening, start);
          if (!(e instanceof BufferFull)) throw e;
        }
      }
      if (attempt > 0 || !this.hasPendingData) {
        throw new IpfixError('RECORD_TOO_LARGE', `a record of set ${setId} does not fit in a message of ${this.maxMessageSize} octets`, { setId, maxMessageSize: this.maxMessageSize });
      }
      this.flush();
    }
  }

  private rollback(opened: boolean, start: number): void {
    if (opened && this.set !== null && this.set.start === start) this.set = null;
    this.offset = start;
  }

  private closeSet(): void {
    if (this.set === null) return;
    this.buf.writeUInt16BE(this.set.id, this.set.start);
    this.buf.writeUInt16BE(this.offset - this.set.start, this.set.start + 2);
    this.set = null;
  }
}
