/**
 * FlowRow: one finished flow record as the storage sinks receive it. Its fields are exactly the
 * columns of the Theia / Antrea `flows` table, named as the information elements are named.
 *
 * FLOW_COLUMNS is the single schema: the ClickHouse CREATE TABLE, the ClickHouse insert
 * serialisation, the DuckDB table and appender, and the query layer are all derived from this one
 * list, so a column can never be written in one order and declared in another (the upstream bug
 * class of antrea#8228).
 *
 * Column order is the table order: `timeInserted` first (DEFAULT now(), set by the store), then the
 * 53 columns Antrea v2.3's Flow Aggregator inserts, in its insert order, then `trusted`
 * (DEFAULT 0, a Theia column that the aggregator leaves at 0).
 *
 * Value conventions (as upstream writes them):
 *   DateTime  unix seconds (number)          UInt64  bigint (exact)
 *   UInt8/16  number                         String  string ("" when absent)
 *   IPs       text ("10.0.0.1", "fd00::1")
 *   destinationClusterIP  "0.0.0.0" (IPv4 flow) or "::" (IPv6 flow) when the flow is not to a
 *                         Service; a flow is "to a Service" when destinationServicePortName != "".
 *   sourcePodLabels / destinationPodLabels  "" when labels are not recorded, else JSON ("{}" none).
 */

export const FLOW_COLUMN_TYPES = ['DateTime', 'UInt8', 'UInt16', 'UInt64', 'String'] as const;
export type FlowColumnType = (typeof FLOW_COLUMN_TYPES)[number];

export const FLOW_COLUMNS = [
  { name: 'timeInserted', type: 'DateTime' },
  { name: 'flowStartSeconds', type: 'DateTime' },
  { name: 'flowEndSeconds', type: 'DateTime' },
  { name: 'flowEndSecondsFromSourceNode', type: 'DateTime' },
  { name: 'flowEndSecondsFromDestinationNode', type: 'DateTime' },
  { name: 'flowEndReason', type: 'UInt8' },
  { name: 'sourceIP', type: 'String' },
  { name: 'destinationIP', type: 'String' },
  { name: 'sourceTransportPort', type: 'UInt16' },
  { name: 'destinationTransportPort', type: 'UInt16' },
  { name: 'protocolIdentifier', type: 'UInt8' },
  { name: 'packetTotalCount', type: 'UInt64' },
  { name: 'octetTotalCount', type: 'UInt64' },
  { name: 'packetDeltaCount', type: 'UInt64' },
  { name: 'octetDeltaCount', type: 'UInt64' },
  { name: 'reversePacketTotalCount', type: 'UInt64' },
  { name: 'reverseOctetTotalCount', type: 'UInt64' },
  { name: 'reversePacketDeltaCount', type: 'UInt64' },
  { name: 'reverseOctetDeltaCount', type: 'UInt64' },
  { name: 'sourcePodName', type: 'String' },
  { name: 'sourcePodNamespace', type: 'String' },
  { name: 'sourceNodeName', type: 'String' },
  { name: 'destinationPodName', type: 'String' },
  { name: 'destinationPodNamespace', type: 'String' },
  { name: 'destinationNodeName', type: 'String' },
  { name: 'destinationClusterIP', type: 'String' },
  { name: 'destinationServicePort', type: 'UInt16' },
  { name: 'destinationServicePortName', type: 'String' },
  { name: 'ingressNetworkPolicyName', type: 'String' },
  { name: 'ingressNetworkPolicyNamespace', type: 'String' },
  { name: 'ingressNetworkPolicyRuleName', type: 'String' },
  { name: 'ingressNetworkPolicyRuleAction', type: 'UInt8' },
  { name: 'ingressNetworkPolicyType', type: 'UInt8' },
  { name: 'egressNetworkPolicyName', type: 'String' },
  { name: 'egressNetworkPolicyNamespace', type: 'String' },
  { name: 'egressNetworkPolicyRuleName', type: 'String' },
  { name: 'egressNetworkPolicyRuleAction', type: 'UInt8' },
  { name: 'egressNetworkPolicyType', type: 'UInt8' },
  { name: 'tcpState', type: 'String' },
  { name: 'flowType', type: 'UInt8' },
  { name: 'sourcePodLabels', type: 'String' },
  { name: 'destinationPodLabels', type: 'String' },
  { name: 'throughput', type: 'UInt64' },
  { name: 'reverseThroughput', type: 'UInt64' },
  { name: 'throughputFromSourceNode', type: 'UInt64' },
  { name: 'throughputFromDestinationNode', type: 'UInt64' },
  { name: 'reverseThroughputFromSourceNode', type: 'UInt64' },
  { name: 'reverseThroughputFromDestinationNode', type: 'UInt64' },
  { name: 'clusterUUID', type: 'String' },
  { name: 'egressName', type: 'String' },
  { name: 'egressIP', type: 'String' },
  { name: 'appProtocolName', type: 'String' },
  { name: 'httpVals', type: 'String' },
  { name: 'egressNodeName', type: 'String' },
  { name: 'trusted', type: 'UInt8' },
] as const satisfies readonly { readonly name: string; readonly type: FlowColumnType }[];

type Column = (typeof FLOW_COLUMNS)[number];
export type FlowColumnName = Column['name'];

/** The TypeScript type that holds a value of a column type. */
export type ColumnValue<T extends FlowColumnType> = T extends 'UInt64' ? bigint : T extends 'String' ? string : number;

/** Every column of the table, as stored (what queries return). */
export type StoredFlowRow = { [C in Column as C['name']]: ColumnValue<C['type']> };

/** What a sink receives: every column except timeInserted, which the store sets on insert. */
export type FlowRow = Omit<StoredFlowRow, 'timeInserted'>;

/** Columns that a sink writes, in table order (all but timeInserted). */
export const FLOW_ROW_COLUMNS = FLOW_COLUMNS.filter(
  (c): c is Exclude<Column, { name: 'timeInserted' }> => c.name !== 'timeInserted',
);

export const FLOW_COLUMN_NAMES: readonly FlowColumnName[] = FLOW_COLUMNS.map((c) => c.name);

const COLUMN_BY_NAME: ReadonlyMap<string, Column> = new Map(FLOW_COLUMNS.map((c) => [c.name, c]));

export function isFlowColumnName(name: string): name is FlowColumnName {
  return COLUMN_BY_NAME.has(name);
}

export function flowColumnType(name: FlowColumnName): FlowColumnType {
  return (COLUMN_BY_NAME.get(name) as Column).type;
}

/** Upper bounds of the numeric column types (values are checked before they are written). */
export const COLUMN_MAX = { DateTime: 0xffff_ffff, UInt8: 0xff, UInt16: 0xffff } as const;

/**
 * A FlowRow with every column at its zero value; handy to build rows field by field. It is built
 * by one compiled object literal, so every row shares one hidden class with fast properties, as
 * the rows toFlowRow() makes do (adding 54 properties one by one leaves an object in V8's slow
 * dictionary mode, and sinks would read such rows several times slower).
 */
export const emptyFlowRow: () => FlowRow = compileEmptyFlowRow();

function compileEmptyFlowRow(): () => FlowRow {
  const zero = (c: (typeof FLOW_ROW_COLUMNS)[number]): string => {
    if (c.name === 'destinationClusterIP') return "'0.0.0.0'";
    return c.type === 'UInt64' ? '0n' : c.type === 'String' ? "''" : '0';
  };
  const fields = FLOW_ROW_COLUMNS.map((c) => `${JSON.stringify(c.name)}: ${zero(c)}`);
  return new Function(`return function emptyFlowRow() { return { ${fields.join(', ')} }; };`)() as () => FlowRow;
}

/** Counters of a sink, for logs, /recordmetrics and Prometheus. */
export interface FlowSinkStats {
  /** Records accepted and not yet written. */
  readonly queued: number;
  /** Records the store has acknowledged. */
  readonly written: number;
  /** Records discarded because the queue was full (oldest first) or the sink was closed. */
  readonly dropped: number;
  /** Failed write attempts (each is retried while the queue has room). */
  readonly failures: number;
  /** Message of the most recent failure; undefined once a later write succeeded. */
  readonly lastError: string | undefined;
}

/**
 * A storage sink. write() never blocks and never throws for a full queue: it enqueues (bounded;
 * the oldest records are dropped, counted and logged when full). flush() resolves once every
 * record queued before the call is written (or rejects with the store's error); close() flushes
 * and releases the connection.
 */
export interface FlowSink {
  readonly name: string;
  write(rows: readonly FlowRow[]): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  stats(): FlowSinkStats;
}

/** The logging a sink needs (pino's Logger fits). */
export interface SinkLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const nothing = (): void => {};
export const silentSinkLogger: SinkLogger = { info: nothing, warn: nothing, error: nothing };

/**
 * The bounded FIFO between write() and a store, with the drop-oldest policy every sink shares.
 *
 * Records move out in batches (take); a batch in flight still counts against the capacity. When
 * records arrive and the queue is full, the oldest records go first: those in flight are only
 * marked ("debt") because they may still be written; if their batch fails, the marked ones are
 * dropped and the rest return to the front (giveBack), so order is kept and nothing is lost while
 * there is room.
 */
export class RowQueue {
  private ring: (FlowRow | undefined)[];
  private head = 0;
  private count = 0;
  private inFlight = 0;
  private inFlightDebt = 0;
  private droppedTotal = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<FlowRow | undefined>(Math.min(capacity, 1024));
  }

  /** Records waiting, not counting a batch in flight. */
  get length(): number {
    return this.count;
  }

  /** Records waiting plus those in flight. */
  get pending(): number {
    return this.count + this.inFlight;
  }

  get dropped(): number {
    return this.droppedTotal;
  }

  /** Appends rows; returns how many records (old ones) were dropped to make room. */
  push(rows: readonly FlowRow[]): number {
    let dropped = 0;
    for (let i = 0; i < rows.length; i++) {
      if (this.count + this.inFlight - this.inFlightDebt >= this.capacity) {
        if (this.inFlight - this.inFlightDebt > 0) {
          this.inFlightDebt++; // the oldest record is in flight: drop it if its batch fails
        } else {
          this.shift();
          dropped++;
        }
      }
      this.append(rows[i] as FlowRow);
    }
    this.droppedTotal += dropped;
    return dropped;
  }

  /** Removes up to max of the oldest rows, to be written; at most one batch may be in flight. */
  take(max: number): FlowRow[] {
    if (this.inFlight !== 0) throw new Error('RowQueue.take: a batch is already in flight');
    const n = Math.min(max, this.count);
    const batch = new Array<FlowRow>(n);
    for (let i = 0; i < n; i++) batch[i] = this.shift();
    this.inFlight = n;
    this.inFlightDebt = 0;
    return batch;
  }

  /** The batch from take() was written. */
  done(): void {
    this.inFlight = 0;
    this.inFlightDebt = 0;
  }

  /**
   * The batch from take() failed after its first `written` rows were stored: the rest return to
   * the front in order, minus the oldest ones that newer records displaced meanwhile. Returns how
   * many were dropped.
   */
  giveBack(batch: readonly FlowRow[], written = 0): number {
    const debt = this.inFlightDebt;
    this.inFlight = 0;
    this.inFlightDebt = 0;
    const rest = batch.length - written;
    const room = this.capacity - this.count;
    const drop = Math.min(rest, Math.max(debt - written, 0, rest - room));
    for (let i = batch.length - 1; i >= written + drop; i--) this.prepend(batch[i] as FlowRow);
    this.droppedTotal += drop;
    return drop;
  }

  /** Empties the queue (on close); returns how many waiting records were discarded. */
  clear(): number {
    const n = this.count;
    this.ring = new Array<FlowRow | undefined>(Math.min(this.capacity, 1024));
    this.head = 0;
    this.count = 0;
    this.droppedTotal += n;
    return n;
  }

  private grow(): void {
    const size = this.ring.length;
    if (this.count < size) return;
    const next = new Array<FlowRow | undefined>(Math.min(this.capacity, size * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.ring[(this.head + i) % size];
    this.ring = next;
    this.head = 0;
  }

  private append(row: FlowRow): void {
    this.grow();
    this.ring[(this.head + this.count) % this.ring.length] = row;
    this.count++;
  }

  private prepend(row: FlowRow): void {
    this.grow();
    this.head = (this.head - 1 + this.ring.length) % this.ring.length;
    this.ring[this.head] = row;
    this.count++;
  }

  private shift(): FlowRow {
    const row = this.ring[this.head] as FlowRow;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count--;
    return row;
  }
}
