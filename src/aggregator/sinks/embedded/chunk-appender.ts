/**
 * Appends FlowRows to a DuckDB table with the flows layout through DuckDB's appender, one data
 * chunk (2048 rows) at a time, with as few calls into the native library as possible:
 *
 * - one compiled, row-major pass reads each record once and spreads its fields into per-column
 *   buffers (reading column by column instead walks every record 55 times: ~5x slower);
 * - a numeric column is a typed array, copied into its vector in one call; typed-array stores
 *   convert like unsigned casts (modulo 2^n, NaN → 0), which forces every value into range, so
 *   one odd record never makes a batch fail;
 * - a VARCHAR column is written as DuckDB's 16-byte string_t array: a string of at most 12 ASCII
 *   bytes is stored inline (u32 length, the bytes, zero padding), so the column is one copy; only
 *   longer or non-ASCII strings are then assigned one by one (DuckDB copies them into the
 *   vector's string heap and writes the pointer form).
 */
import duckdb from '@duckdb/node-bindings';
import { DuckDBDataChunk, type DuckDBAppender } from '@duckdb/node-api';
import { FLOW_COLUMNS, type FlowColumnType, type FlowRow } from '../flow-row.ts';
import { FLOWS_TABLE_TYPES, INDEX_COLUMNS } from './duckdb-schema.ts';
import type { ResolvedBatch } from './name-dictionary.ts';

const CHUNK_ROWS = 2048;
const STRING_T_BYTES = 16;
const INLINE_MAX = 12;

type ColumnBuffer = Uint8Array | Uint16Array | Uint32Array | BigUint64Array | string[];

const BYTES_PER_VALUE: Readonly<Record<Exclude<FlowColumnType, 'String'>, number>> = { DateTime: 4, UInt8: 1, UInt16: 2, UInt64: 8 };

function columnBuffer(type: FlowColumnType): ColumnBuffer {
  switch (type) {
    case 'DateTime':
      return new Uint32Array(CHUNK_ROWS);
    case 'UInt8':
      return new Uint8Array(CHUNK_ROWS);
    case 'UInt16':
      return new Uint16Array(CHUNK_ROWS);
    case 'UInt64':
      return new BigUint64Array(CHUNK_ROWS);
    case 'String':
      return new Array<string>(CHUNK_ROWS).fill('');
  }
}

function u64(x: unknown): bigint {
  return typeof x === 'number' && Number.isFinite(x) && x > 0 ? BigInt(Math.trunc(x)) : 0n;
}

type RowMajorFill = (rows: readonly FlowRow[], offset: number, count: number) => void;

/** Compiles the pass that spreads rows[offset, offset+count) into the column buffers. */
function compileFill(buffers: readonly ColumnBuffer[], skip: number): RowMajorFill {
  const statements: string[] = [];
  FLOW_COLUMNS.forEach((c, i) => {
    if (i === skip) return;
    const read = `r[${JSON.stringify(c.name)}]`;
    if (c.type === 'UInt64') statements.push(`v = ${read}; c${i}[k] = typeof v === 'bigint' ? v : u64(v);`);
    else if (c.type === 'String') statements.push(`v = ${read}; c${i}[k] = typeof v === 'string' ? v : '';`);
    else statements.push(`c${i}[k] = ${read};`);
  });
  const bind = FLOW_COLUMNS.map((_, i) => `const c${i} = buffers[${i}];`).join(' ');
  const source =
    `${bind} return function fill(rows, offset, count) {` +
    ` let v; for (let k = 0; k < count; k++) { const r = rows[offset + k]; ${statements.join(' ')} } };`;
  return new Function('buffers', 'u64', source)(buffers, u64) as RowMajorFill;
}

export class ChunkAppender {
  private readonly buffers: ColumnBuffer[];
  private readonly fill: RowMajorFill;
  private readonly timeInsertedIndex: number;
  private readonly stringBytes = new Uint8Array(CHUNK_ROWS * STRING_T_BYTES);
  private readonly stringView = new DataView(this.stringBytes.buffer);
  private readonly longStrings = new Uint32Array(CHUNK_ROWS);

  constructor(private readonly appender: DuckDBAppender) {
    this.timeInsertedIndex = FLOW_COLUMNS.findIndex((c) => c.name === 'timeInserted');
    this.buffers = FLOW_COLUMNS.map((c) => columnBuffer(c.type));
    this.fill = compileFill(this.buffers, this.timeInsertedIndex);
  }

  /** Appends rows (with their resolved ids) and commits them; timeInserted = nowSeconds. */
  append(rows: readonly FlowRow[], ids: ResolvedBatch, nowSeconds: number): void {
    this.appendRange(rows, ids, nowSeconds, 0, rows.length);
    this.flush();
  }

  /** Appends rows[start, end) without committing (the appender buffers them until flush()). */
  appendRange(rows: readonly FlowRow[], ids: ResolvedBatch, nowSeconds: number, start: number, end: number): void {
    (this.buffers[this.timeInsertedIndex] as Uint32Array).fill(nowSeconds >>> 0);
    for (let offset = start; offset < end; offset += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, end - offset);
      this.fill(rows, offset, count);
      const chunk = DuckDBDataChunk.create(FLOWS_TABLE_TYPES, count);
      FLOW_COLUMNS.forEach((c, i) => {
        const vector = duckdb.data_chunk_get_vector(chunk.chunk, i);
        const buffer = this.buffers[i] as ColumnBuffer;
        if (c.type === 'String') this.writeStrings(vector, buffer as string[], count);
        else copy(vector, buffer as Exclude<ColumnBuffer, string[]>, count * BYTES_PER_VALUE[c.type]);
      });
      const idColumns = [ids.sourceIds, ids.destinationIds, ids.serviceIds];
      for (let j = 0; j < INDEX_COLUMNS.length; j++) {
        const vector = duckdb.data_chunk_get_vector(chunk.chunk, FLOW_COLUMNS.length + j);
        copy(vector, (idColumns[j] as Uint32Array).subarray(offset, offset + count), count * 4);
      }
      this.appender.appendDataChunk(chunk);
    }
  }

  /** Commits what was appended. */
  flush(): void {
    this.appender.flushSync();
  }

  close(): void {
    this.appender.closeSync();
  }

  /** Writes strings[0..count) into a VARCHAR vector (see the header). */
  private writeStrings(vector: duckdb.Vector, strings: readonly string[], count: number): void {
    const bytes = this.stringBytes;
    const view = this.stringView;
    bytes.fill(0, 0, count * STRING_T_BYTES);
    let long = 0;
    for (let k = 0; k < count; k++) {
      const s = strings[k] as string;
      const n = s.length;
      if (n > INLINE_MAX) {
        this.longStrings[long++] = k;
        continue;
      }
      const base = k * STRING_T_BYTES;
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const code = s.charCodeAt(i);
        if (code > 0x7f) {
          ascii = false;
          break;
        }
        bytes[base + 4 + i] = code;
      }
      if (ascii) {
        view.setUint32(base, n, true);
      } else {
        bytes.fill(0, base, base + STRING_T_BYTES);
        this.longStrings[long++] = k;
      }
    }
    copy(vector, bytes, count * STRING_T_BYTES);
    for (let j = 0; j < long; j++) {
      const k = this.longStrings[j] as number;
      const s = strings[k] as string;
      // The plain call takes a C string, which would end at a NUL; such strings go by length.
      if (s.includes('\0')) duckdb.vector_assign_string_element_len(vector, k, Buffer.from(s, 'utf8'));
      else duckdb.vector_assign_string_element(vector, k, s);
    }
  }
}

function copy(vector: duckdb.Vector, source: Exclude<ColumnBuffer, string[]>, byteCount: number): void {
  duckdb.copy_data_to_vector(vector, 0, source.buffer as ArrayBuffer, source.byteOffset, byteCount);
}
