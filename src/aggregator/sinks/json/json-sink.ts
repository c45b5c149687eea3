/**
 * The JSON sink (flowCollector with recordFormat JSON): aggregated flows as newline-delimited
 * JSON (json-record.ts) over TCP, TLS or UDP, no templates, as go-ipfix's exporter in JSON mode.
 *
 * - One write per batch: the lines of all flows of one expiry pass are written with one
 *   socket.write (TCP/TLS), or packed into as few datagrams as fit the maximum datagram size
 *   (UDP: whole lines only; a line longer than the limit goes alone in its own datagram; the limit
 *   is flowCollector.maxIPFIXMsgSize when set, else derived from the path MTU as for IPFIX).
 *   go-ipfix writes one record per write (one datagram per record); a receiver that splits on
 *   newlines reads both the same way.
 * - Reconnects after any failure with exponential backoff (1 s doubling to 30 s by default).
 *   While disconnected, or while the socket applies backpressure, flows wait in the bounded queue
 *   (oldest dropped, counted). Lines already handed to a TCP socket that then fails are lost and
 *   counted as dropped (which of them arrived is unknowable).
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { TransportError } from '../../../errors.ts';
import type { FlowCollectorConfig } from '../../../config/aggregator-types.ts';
import {
  Backoff, connectStream, mtuOfLocalAddress, udpMessageSizeForMtu, type BackoffOptions, type CancelTimer, type ExporterTlsOptions,
  type TransportProtocol,
} from '../../../transport/index.ts';
import type { AggregatedFlow } from '../../core/index.ts';
import { collectorEndpoint, exporterTlsFromConfig, type CollectorSinkContext } from '../ipfix/collector-options.ts';
import { QueuedSink, type QueuedSinkOptions } from '../sink.ts';
import { jsonRecordLine, rfc3339Seconds } from './json-record.ts';

export interface JsonSinkOptions<T = AggregatedFlow> extends QueuedSinkOptions {
  /** One record as one line (default: an aggregated flow; Proxy mode: a forwarded record). */
  line?: (record: T, timestamp: string) => string;
  host: string;
  port: number;
  transport: TransportProtocol;
  tls?: ExporterTlsOptions;
  backoff?: BackoffOptions;
  /** A connection attempt fails after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** UDP: largest datagram (default: from the sending interface's MTU, at least 512). */
  maxDatagramSize?: number;
  /** TCP/TLS: stop writing once this many octets wait in the socket (default 1 MiB). */
  maxBufferedBytes?: number;
  /** UDP: stop sending once this many datagrams wait for their send callback (default 1024). */
  maxInflightDatagrams?: number;
}

export type JsonSinkState = 'connecting' | 'connected' | 'backoff' | 'closed';

export class JsonSink<T = AggregatedFlow> extends QueuedSink<T> {
  readonly name = 'json';
  private readonly opts: JsonSinkOptions<T>;
  private readonly line: (record: T, timestamp: string) => string;
  private readonly backoff: Backoff;
  private currentState: JsonSinkState = 'connecting';
  private stream: net.Socket | null = null;
  private udp: dgram.Socket | null = null;
  private datagramSize = 0;
  private blocked = false;
  private inflight = 0;
  private connectCount = 0;
  private cancelReconnect: CancelTimer | null = null;
  private cancelConnectTimeout: CancelTimer | null = null;

  constructor(options: JsonSinkOptions<T>) {
    super(options);
    // Without `line`, T is the default (aggregated flows).
    this.line = options.line ?? (jsonRecordLine as unknown as (record: T, timestamp: string) => string);
    if (!['tcp', 'udp', 'tls'].includes(options.transport)) {
      throw new TransportError('BAD_TRANSPORT', `transport "${String(options.transport)}" is not one of tcp, udp, tls`, { transport: String(options.transport) });
    }
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new TransportError('BAD_PORT', `collector port ${options.port} is outside 1..65535`, { port: options.port });
    }
    this.opts = options;
    this.backoff = new Backoff(options.backoff);
    this.connect();
  }

  get state(): JsonSinkState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.currentState === 'connected';
  }

  /** Successful connects, the first one included. */
  get connects(): number {
    return this.connectCount;
  }

  protected override ready(): boolean {
    return this.currentState === 'connected' && !this.blocked;
  }

  protected deliver(batch: T[]): void {
    const timestamp = rfc3339Seconds(this.timers.now());
    if (this.stream) this.writeStream(this.stream, batch, timestamp);
    else if (this.udp) this.sendDatagrams(this.udp, batch, timestamp);
    else this.countDropped(batch.length, 'no connection');
  }

  protected override async closeOutput(): Promise<void> {
    const wasConnected = this.currentState === 'connected';
    this.currentState = 'closed';
    this.stopTimer('cancelReconnect');
    this.stopTimer('cancelConnectTimeout');
    const stream = this.stream;
    if (stream) {
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      if (wasConnected) stream.end(); else stream.destroy();
      const timer = this.timers.setTimeout(() => stream.destroy(), 5000);
      await closed;
      timer();
    }
    const udp = this.udp;
    if (udp) {
      this.udp = null;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    }
  }

  // --- writing --------------------------------------------------------------------------------

  private writeStream(sock: net.Socket, batch: T[], timestamp: string): void {
    let text = '';
    for (const flow of batch) text += this.line(flow, timestamp);
    const n = batch.length;
    const ok = sock.write(text, (err) => {
      if (err) {
        this.recordFailure(err);
        this.countDropped(n, 'write to the collector failed');
      } else {
        this.sent += n;
      }
      this.notify();
    });
    if (!ok && sock.writableLength >= (this.opts.maxBufferedBytes ?? 1 << 20)) this.blocked = true;
  }

  private sendDatagrams(sock: dgram.Socket, batch: T[], timestamp: string): void {
    const limit = this.datagramSize;
    let chunk: string[] = [];
    let chunkBytes = 0;
    const send = (): void => {
      if (chunk.length === 0) return;
      const data = Buffer.from(chunk.join(''), 'utf8');
      const n = chunk.length;
      chunk = [];
      chunkBytes = 0;
      this.inflight++;
      if (this.inflight >= (this.opts.maxInflightDatagrams ?? 1024)) this.blocked = true;
      sock.send(data, (err) => {
        this.inflight--;
        if (err) {
          this.recordFailure(err);
          this.countDropped(n, 'datagram to the collector could not be sent');
        } else {
          this.sent += n;
        }
        if (this.blocked && this.inflight < (this.opts.maxInflightDatagrams ?? 1024) / 2 && this.udp === sock) {
          this.blocked = false;
          this.kick();
        }
        this.notify();
      });
    };
    for (const flow of batch) {
      const line = this.line(flow, timestamp);
      const bytes = Buffer.byteLength(line, 'utf8');
      if (chunkBytes + bytes > limit) send();
      chunk.push(line);
      chunkBytes += bytes;
    }
    send();
  }

  // --- connection management ------------------------------------------------------------------

  private connect(): void {
    this.cancelReconnect = null;
    this.currentState = 'connecting';
    if (this.opts.transport === 'udp') void this.connectUdp();
    else this.connectStream();
  }

  private connectStream(): void {
    const { host, port } = this.opts;
    const { sock, ready: readyEvent } = connectStream(host, port, this.opts.transport === 'tls' ? 'tls' : 'tcp', this.opts.tls);
    this.stream = sock;
    let lastError: Error | undefined;
    const timeoutMs = this.opts.connectTimeoutMs ?? 10_000;
    this.cancelConnectTimeout = this.timers.setTimeout(() => {
      this.cancelConnectTimeout = null;
      sock.destroy(new TransportError('CONNECT_TIMEOUT', `no connection to ${host}:${port} within ${timeoutMs} ms`, { host, port }));
    }, timeoutMs);
    sock.once(readyEvent, () => {
      if (this.stream !== sock) return;
      this.stopTimer('cancelConnectTimeout');
      sock.setNoDelay(true);
      sock.setKeepAlive(true, 30_000);
      this.onConnected();
    });
    sock.on('error', (e) => { lastError = e; });
    sock.on('data', () => { /* a collector sends nothing; reading keeps 'end' detectable */ });
    sock.on('end', () => sock.destroy());
    sock.on('drain', () => {
      if (this.stream !== sock || !this.blocked) return;
      this.blocked = false;
      this.kick();
    });
    sock.on('close', () => {
      if (this.stream !== sock) return;
      this.stream = null;
      this.blocked = false;
      this.stopTimer('cancelConnectTimeout');
      if (this.currentState === 'closed') return;
      const wasConnected = this.currentState === 'connected';
      const err = lastError ?? new TransportError(wasConnected ? 'CONNECTION_LOST' : 'CONNECT_FAILED', `connection to ${host}:${port} closed`, { host, port });
      this.recordFailure(err);
      this.log.warn({ sink: this.name, err, host, port }, wasConnected ? 'JSON sink lost its connection' : 'JSON sink could not connect');
      this.scheduleReconnect();
    });
  }

  private async connectUdp(): Promise<void> {
    const { host, port } = this.opts;
    let address = host;
    let family = net.isIP(host);
    try {
      if (family === 0) {
        const r = await lookup(host);
        address = r.address;
        family = r.family;
      }
    } catch (e) {
      this.recordFailure(new TransportError('RESOLVE_FAILED', `cannot resolve collector host ${host}: ${(e as Error).message}`, { host }, { cause: e }));
      this.scheduleReconnect();
      return;
    }
    if (this.currentState !== 'connecting') return;
    const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    this.udp = sock;
    sock.on('error', (e) => {
      this.recordFailure(e);
      if (this.udp === sock && this.currentState === 'connecting') {
        this.udp = null;
        sock.close();
        this.scheduleReconnect();
      }
    });
    sock.connect(port, address, () => {
      if (this.udp !== sock || this.currentState !== 'connecting') return;
      const local = sock.address();
      this.datagramSize = this.opts.maxDatagramSize
        ?? udpMessageSizeForMtu(mtuOfLocalAddress(local.address) ?? 0, family === 6 ? 6 : 4);
      this.onConnected();
    });
  }

  private onConnected(): void {
    this.currentState = 'connected';
    this.connectCount++;
    this.backoff.reset();
    this.blocked = false;
    this.log.info({ sink: this.name, host: this.opts.host, port: this.opts.port, transport: this.opts.transport }, 'JSON sink connected');
    this.kick();
  }

  private scheduleReconnect(): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'backoff';
    this.cancelReconnect = this.timers.setTimeout(() => this.connect(), this.backoff.next());
  }

  private stopTimer(name: 'cancelReconnect' | 'cancelConnectTimeout'): void {
    const cancel = this[name];
    this[name] = null;
    if (cancel) cancel();
  }
}

/** The JSON sink of flowCollector (recordFormat JSON). */
/** The options of flowCollector's JSON sink (recordFormat JSON) from the configuration. */
export function jsonSinkOptionsFromConfig(config: FlowCollectorConfig, context: CollectorSinkContext): JsonSinkOptions {
  const endpoint = collectorEndpoint(config);
  return {
    ...endpoint,
    ...(endpoint.transport === 'tls' ? { tls: exporterTlsFromConfig(config.tls, context.tlsMaterial) } : {}),
    ...(config.maxIPFIXMsgSize > 0 ? { maxDatagramSize: config.maxIPFIXMsgSize } : {}),
    backoff: context.backoff,
    maxQueue: context.maxQueue,
    timers: context.timers,
    logger: context.logger,
  };
}

export function jsonSinkFromConfig(config: FlowCollectorConfig, context: CollectorSinkContext): JsonSink {
  return new JsonSink(jsonSinkOptionsFromConfig(config, context));
}
