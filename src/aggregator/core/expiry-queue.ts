/**
 * A flat binary min-heap of flow slots ordered by a deadline (ms), over typed arrays: no object per
 * entry. Each slot is in the heap at most once; `position` tracks where, so a deadline can be moved
 * in O(log n). The aggregation core keys it lazily: a deadline that moves later (every incoming
 * record pushes the inactive deadline back) is not updated here; the top is re-keyed when it
 * surfaces early (see AggregationProcess.expire). Only moves to an earlier time need `update`.
 */
export class ExpiryQueue {
  private slots: Int32Array;
  private deadlines: Float64Array;
  /** Heap index of each slot, -1 when not queued. */
  private position: Int32Array;
  private count = 0;

  constructor(capacity = 1024) {
    this.slots = new Int32Array(capacity);
    this.deadlines = new Float64Array(capacity);
    this.position = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  /** Makes room for slot numbers below `slotCapacity` (the heap never holds more entries than slots). */
  reserve(slotCapacity: number): void {
    if (slotCapacity <= this.position.length) return;
    const position = new Int32Array(slotCapacity).fill(-1);
    position.set(this.position);
    this.position = position;
    const slots = new Int32Array(slotCapacity);
    slots.set(this.slots.subarray(0, this.count));
    this.slots = slots;
    const deadlines = new Float64Array(slotCapacity);
    deadlines.set(this.deadlines.subarray(0, this.count));
    this.deadlines = deadlines;
  }

  has(slot: number): boolean {
    return this.position[slot] >= 0;
  }

  /** Queues `slot` (not queued yet) with `deadline`. */
  push(slot: number, deadline: number): void {
    if (slot >= this.position.length) this.reserve(Math.max(slot + 1, this.position.length * 2));
    const i = this.count++;
    this.slots[i] = slot;
    this.deadlines[i] = deadline;
    this.position[slot] = i;
    this.up(i);
  }

  /** Moves a queued slot's deadline (earlier or later). */
  update(slot: number, deadline: number): void {
    const i = this.position[slot];
    const old = this.deadlines[i];
    this.deadlines[i] = deadline;
    if (deadline < old) this.up(i);
    else this.down(i);
  }

  /** Slot with the earliest deadline; -1 when empty. */
  peekSlot(): number {
    return this.count > 0 ? this.slots[0] : -1;
  }

  /** Earliest deadline; Infinity when empty. */
  peekDeadline(): number {
    return this.count > 0 ? this.deadlines[0] : Infinity;
  }

  /** Removes and returns the slot with the earliest deadline (-1 when empty). */
  pop(): number {
    if (this.count === 0) return -1;
    const top = this.slots[0];
    this.removeAt(0);
    return top;
  }

  /** Removes a slot wherever it is (no-op when not queued). */
  remove(slot: number): void {
    const i = this.position[slot];
    if (i >= 0) this.removeAt(i);
  }

  private removeAt(i: number): void {
    const removed = this.slots[i];
    this.position[removed] = -1;
    const last = --this.count;
    if (i === last) return;
    const moved = this.slots[last];
    const d = this.deadlines[last];
    const old = this.deadlines[i];
    this.slots[i] = moved;
    this.deadlines[i] = d;
    this.position[moved] = i;
    if (d < old) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const slots = this.slots;
    const deadlines = this.deadlines;
    const slot = slots[i];
    const d = deadlines[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pd = deadlines[parent];
      if (pd <= d) break;
      slots[i] = slots[parent];
      deadlines[i] = pd;
      this.position[slots[i]] = i;
      i = parent;
    }
    slots[i] = slot;
    deadlines[i] = d;
    this.position[slot] = i;
  }

  private down(i: number): void {
    const slots = this.slots;
    const deadlines = this.deadlines;
    const n = this.count;
    const slot = slots[i];
    const d = deadlines[i];
    const half = n >> 1;
    while (i < half) {
      let child = 2 * i + 1;
      let cd = deadlines[child];
      const right = child + 1;
      if (right < n && deadlines[right] < cd) {
        child = right;
        cd = deadlines[right];
      }
      if (cd >= d) break;
      slots[i] = slots[child];
      deadlines[i] = cd;
      this.position[slots[i]] = i;
      i = child;
    }
    slots[i] = slot;
    deadlines[i] = d;
    this.position[slot] = i;
  }
}
