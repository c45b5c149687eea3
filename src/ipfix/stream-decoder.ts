/**
 * Frames IPFIX messages out of a byte stream (TCP, TLS): a message may arrive split across chunks
 * or several messages in one chunk. The header's length field delimits messages (RFC 7011 §10.4).
 * A framing error (wrong version, length below 16) leaves no way to find the next message, so it
 * ends the stream: `failed` holds the error and further input is ignored.
 *
 * StreamFramer only cuts the stream into messages (their octets); StreamDecoder also decodes them
 * with a SessionDecoder.
 */
import { IpfixError } from '../errors.ts';
import { IPFIX_VERSION, MESSAGE_HEADER_LENGTH } from './constants.ts';
import type { DecodedMessage, SessionDecoder } from './session-decoder.ts';

export class StreamFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  failed: IpfixError | null = null;
  /** Offset of the next message from the start of the stream (for error context). */
  private streamOffset = 0;

  /** Octets received but not yet part of a complete message. */
  get pendingOctets(): number {
    return this.buffered;
  }

  /** Feeds a chunk; calls `onMessage` with the octets of every complete message. Returns false once the stream failed. */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): boolean {
    if (this.failed) return false;
    if (chunk.length === 0) return true;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const head = this.peek(4);
      const version = head.readUInt16BE(0);
      const length = head.readUInt16BE(2);
      if (version !== IPFIX_VERSION) {
        return this.fail(new IpfixError('BAD_VERSION', `stream octet ${this.streamOffset}: version ${version} is not IPFIX (10); stream closed`, { offset: this.streamOffset, version }));
      }
      if (length < MESSAGE_HEADER_LENGTH) {
        return this.fail(new IpfixError('BAD_MESSAGE_LENGTH', `stream octet ${this.streamOffset}: message length ${length} is shorter than its header; stream closed`, { offset: this.streamOffset, length }));
      }
      if (this.buffered < length) break;
      const msg = this.take(length);
      this.streamOffset += length;
      onMessage(msg);
    }
    return true;
  }

  /** Called at end of stream: a partial message left over is an error. */
  end(): IpfixError | null {
    if (this.failed) return this.failed;
    if (this.buffered > 0) {
      const err = new IpfixError('STREAM_TRUNCATED', `stream ended inside a message (${this.buffered} octets pending)`, { offset: this.streamOffset, pending: this.buffered });
      this.fail(err);
      return err;
    }
    return null;
  }

  private fail(err: IpfixError): false {
    this.failed = err;
    this.chunks = [];
    this.buffered = 0;
    return false;
  }

  /** The first n buffered octets without consuming them (n ≤ buffered). */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length >= n) return first;
    return Buffer.concat(this.chunks, Math.min(this.buffered, 64)).subarray(0, n);
  }

  /** Removes and returns the first n octets (n ≤ buffered), copying only when a message spans chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    this.buffered -= n;
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const want = n - filled;
      if (c.length <= want) {
        c.copy(out, filled);
        filled += c.length;
        this.chunks.shift();
      } else {
        c.copy(out, filled, 0, want);
        this.chunks[0] = c.subarray(want);
        filled += want;
      }
    }
    return out;
  }
}

/** Frames messages out of a stream and decodes them with the session's decoder. */
export class StreamDecoder {
  private readonly framer = new StreamFramer();

  constructor(readonly session: SessionDecoder) {}

  get failed(): IpfixError | null {
    return this.framer.failed;
  }

  /** Octets received but not yet part of a complete message. */
  get pendingOctets(): number {
    return this.framer.pendingOctets;
  }

  /** Feeds a chunk; calls `onMessage` for every complete message, decoded. Returns false once the stream failed. */
  push(chunk: Buffer, onMessage: (m: DecodedMessage) => void): boolean {
    return this.framer.push(chunk, (msg) => onMessage(this.session.decodeMessage(msg)));
  }

  /** Called at end of stream: a partial message left over is an error. */
  end(): IpfixError | null {
    return this.framer.end();
  }
}
