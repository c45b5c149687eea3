/**
 * The exporting process's waiting room: records that cannot be written yet (no connection, or the
 * socket is applying backpressure) wait here in arrival order. It is bounded; when full the OLDEST
 * record is dropped to make room, because a newer record of the same flow carries more recent
 * totals. Every drop is counted by the caller.
 */
import type { FieldValue, Template } from '../ipfix/index.ts';

export interface QueuedRecord {
  readonly template: Template;
  readonly values: readonly (FieldValue | undefined)[];
}

export class RecordQueue {
  private items: (QueuedRecord | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity ${capacity} must be a positive integer`);
    this.items = new Array<QueuedRecord | undefined>(Math.min(capacity, 1024));
  }

  get length(): number {
    return this.count;
  }

  /** Appends a record; returns the record dropped to make room, if any. */
  push(r: QueuedRecord): QueuedRecord | undefined {
    let dropped: QueuedRecord | undefined;
    if (this.count === this.capacity) dropped = this.shift();
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) % this.items.length] = r;
    this.count++;
    return dropped;
  }

  shift(): QueuedRecord | undefined {
    if (this.count === 0) return undefined;
    const r = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.count--;
    return r;
  }

  /**
   * Puts records back at the front (in their order), e.g. those of a message that was never sent.
   * Returns how many of the oldest records had to be dropped to stay within capacity.
   */
  unshiftAll(records: readonly QueuedRecord[]): number {
    if (records.length === 0) return 0;
    const rest: QueuedRecord[] = [];
    for (let r = this.shift(); r; r = this.shift()) rest.push(r);
    const all = records.concat(rest);
    const dropped = Math.max(0, all.length - this.capacity);
    this.items = new Array<QueuedRecord | undefined>(Math.max(1024, Math.min(this.capacity, all.length)));
    this.head = 0;
    this.count = 0;
    for (let i = dropped; i < all.length; i++) this.push(all[i]);
    return dropped;
  }

  /** Removes the records matching `pred` (order of the others kept); returns how many. */
  removeWhere(pred: (r: QueuedRecord) => boolean): number {
    const keep: QueuedRecord[] = [];
    let removed = 0;
    for (let r = this.shift(); r; r = this.shift()) {
      if (pred(r)) removed++; else keep.push(r);
    }
    for (const r of keep) this.push(r);
    return removed;
  }

  /** Removes everything; returns how many records were removed. */
  clear(): number {
    const n = this.count;
    this.items = new Array<QueuedRecord | undefined>(Math.min(this.capacity, 1024));
    this.head = 0;
    this.count = 0;
    return n;
  }

  private grow(): void {
    const size = Math.min(this.capacity, this.items.length * 2);
    const next = new Array<QueuedRecord | undefined>(size);
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
