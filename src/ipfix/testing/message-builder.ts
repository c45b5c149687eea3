/**
 * Hand-built IPFIX messages for tests: lets a test write any byte sequence (valid or not) with the
 * message and set lengths filled in, independently of MessageWriter.
 */
export class Bytes {
  private parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v >>> 8).u8(v); }
  u32(v: number): this { return this.u16(v >>> 16).u16(v); }
  raw(b: Uint8Array | number[]): this { for (const x of b) this.parts.push(x); return this; }
  get length(): number { return this.parts.length; }
  build(): Buffer { return Buffer.from(this.parts); }
}

export interface SetSpec { id: number; body: Bytes | number[]; lengthOverride?: number }

/** A message with header fields and the given sets; lengths are computed unless overridden. */
export function message(sets: SetSpec[], header: { version?: number; length?: number; exportTime?: number; sequence?: number; domain?: number } = {}): Buffer {
  const body = new Bytes();
  for (const s of sets) {
    const content = s.body instanceof Bytes ? s.body.build() : Buffer.from(s.body);
    body.u16(s.id).u16(s.lengthOverride ?? content.length + 4).raw(content);
  }
  const msg = new Bytes()
    .u16(header.version ?? 10)
    .u16(header.length ?? body.length + 16)
    .u32(header.exportTime ?? 1700000000)
    .u32(header.sequence ?? 0)
    .u32(header.domain ?? 1)
    .raw(body.build());
  return msg.build();
}

/** A template record: ID, then [id, length] or [id, length, pen] field specifiers. */
export function templateRecord(id: number, fields: Array<[number, number] | [number, number, number]>, scopeCount?: number): Bytes {
  const b = new Bytes().u16(id).u16(fields.length);
  if (scopeCount !== undefined) b.u16(scopeCount);
  for (const f of fields) {
    if (f.length === 3) b.u16(f[0] | 0x8000).u16(f[1]).u32(f[2]);
    else b.u16(f[0]).u16(f[1]);
  }
  return b;
}
