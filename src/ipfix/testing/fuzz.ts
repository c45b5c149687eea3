/**
 * Mutation fuzzing of the decoders: valid seed messages are mutated (bit flips, interesting values,
 * length-field tampering, truncation, insertion, splicing) and fed to a datagram session decoder
 * and to a stream decoder. Anything thrown out of a decoder, or an error that is not an IpfixError,
 * is a failure. Deterministic for a given seed.
 */
import { IpfixError } from '../../errors.ts';
import { SessionDecoder } from '../session-decoder.ts';
import { StreamDecoder } from '../stream-decoder.ts';
import { mulberry32 } from '../../testing/random.ts';

const INTERESTING = [0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff];

export function mutate(rnd: () => number, seeds: readonly Buffer[]): Buffer {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let m = Buffer.from(seeds[pick(seeds.length)]);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    if (m.length === 0) m = Buffer.from(seeds[pick(seeds.length)]);
    switch (pick(8)) {
      case 0: m[pick(m.length)] ^= 1 << pick(8); break;
      case 1: m[pick(m.length)] = INTERESTING[pick(INTERESTING.length)]; break;
      case 2: {
        // A 16-bit length-like field at a random even offset: set lengths, field lengths, counts.
        const p = pick(Math.max(1, m.length - 1)) & ~1;
        if (p + 2 <= m.length) m.writeUInt16BE([0, 1, 3, 4, 5, 255, 256, 65535, pick(65536), m.length - p][pick(10)] & 0xffff, p);
        break;
      }
      case 3: m = m.subarray(0, pick(m.length + 1)); break;
      case 4: {
        const p = pick(m.length + 1);
        const ins = Buffer.alloc(1 + pick(8));
        for (let i = 0; i < ins.length; i++) ins[i] = pick(256);
        m = Buffer.concat([m.subarray(0, p), ins, m.subarray(p)]);
        break;
      }
      case 5: {
        const other = seeds[pick(seeds.length)];
        const p = pick(m.length + 1);
        m = Buffer.concat([m.subarray(0, p), other.subarray(pick(other.length + 1))]);
        break;
      }
      case 6: {
        // Keep the message length field consistent so the decoder looks inside.
        if (m.length >= 4) m.writeUInt16BE(Math.min(m.length, 65535), 2);
        break;
      }
      default: {
        const p = pick(m.length);
        const n = Math.min(m.length - p, 1 + pick(16));
        m.copyWithin(pick(m.length), p, p + n);
      }
    }
  }
  return m;
}

export interface FuzzStats {
  messages: number;
  decodedRecords: number;
  typedErrors: number;
  framingFailures: number;
  failures: string[];
}

/** Runs `count` mutated messages through both decoders. */
export function fuzz(count: number, seeds: readonly Buffer[], rngSeed = 1): FuzzStats {
  const rnd = mulberry32(rngSeed);
  const stats: FuzzStats = { messages: 0, decodedRecords: 0, typedErrors: 0, framingFailures: 0, failures: [] };
  let udp = new SessionDecoder({ transport: 'udp', holdUnknownMs: 1000 });
  let stream = new StreamDecoder(new SessionDecoder({ transport: 'tcp' }));
  const onMessage = (m: { records: unknown[]; errors: unknown[] }): void => {
    stats.decodedRecords += m.records.length;
    for (const e of m.errors) {
      if (e instanceof IpfixError) stats.typedErrors++;
      else stats.failures.push(`untyped error: ${String(e)}`);
    }
  };
  for (let i = 0; i < count; i++) {
    // Templates must be known for data sets to be exercised: replay a seed now and then.
    const msg = i % 16 === 0 ? seeds[i % seeds.length] : mutate(rnd, seeds);
    stats.messages++;
    try {
      onMessage(udp.decodeMessage(msg));
      if (!stream.push(msg, onMessage)) {
        stats.framingFailures++;
        stream = new StreamDecoder(new SessionDecoder({ transport: 'tcp' }));
      }
    } catch (e) {
      if (stats.failures.length < 20) stats.failures.push(`message ${i} (${msg.toString('hex').slice(0, 200)}): ${e instanceof Error ? e.stack : String(e)}`);
      else stats.failures.push('...');
      udp = new SessionDecoder({ transport: 'udp', holdUnknownMs: 1000 });
      stream = new StreamDecoder(new SessionDecoder({ transport: 'tcp' }));
    }
  }
  return stats;
}
