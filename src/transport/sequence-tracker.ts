/**
 * Loss detection from sequence numbers (RFC 7011 §3.1, §10.3.2): a message's sequence number is
 * the count, modulo 2^32, of data records the observation domain sent in this transport session
 * before it. Per (session, domain) the next expected number is the last one plus the records the
 * last message held; a message ahead of it means records were lost, one behind it means reordering,
 * duplication or an exporter restart. A message less than REORDER_WINDOW records behind is taken as
 * reordered and leaves the expectation where it was; further behind, the tracker resynchronises on
 * it (an exporter that restarted its numbering). When a message could not be fully decoded (data sets of
 * unknown templates, decode errors) its record count is unknown and the next message resynchronises.
 */
export interface SequenceVerdict {
  /** Records missing before this message. */
  lost: number;
  /** True when the message is behind the expected number. */
  outOfOrder: boolean;
}

const NONE: SequenceVerdict = { lost: 0, outOfOrder: false };
export const REORDER_WINDOW = 65536;

export class SequenceTracker {
  private readonly expected = new Map<number, number>();

  /**
   * Checks one message of `domain`; `records` is its data record count, or -1 when unknown.
   */
  observe(domain: number, sequenceNumber: number, records: number): SequenceVerdict {
    const want = this.expected.get(domain);
    const gap = want === undefined ? 0 : (sequenceNumber - want) >>> 0;
    const behind = gap >= 0x80000000;
    if (records < 0) this.expected.delete(domain);
    else if (!behind || 0x100000000 - gap > REORDER_WINDOW) this.expected.set(domain, (sequenceNumber + records) >>> 0);
    if (want === undefined || gap === 0) return NONE;
    return behind ? { lost: 0, outOfOrder: true } : { lost: gap, outOfOrder: false };
  }
}
