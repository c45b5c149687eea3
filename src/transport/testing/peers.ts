/**
 * Minimal real peers for transport tests: a TCP sink and a UDP sink that decode what they receive
 * with the codec alone (no collecting process), and a bounded wait.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { SessionDecoder, StreamDecoder, type DecodedMessage } from '../../ipfix/index.ts';

/** Resolves like `p`, or rejects after `ms` (a bound on a wait for real I/O, not a sleep). */
export function within<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `cond` on the event loop until true or `ms` elapses (then rejects). */
export async function until(cond: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface DecodedConnection {
  socket: net.Socket;
  messages: DecodedMessage[];
  /** Raw octets received, in order. */
  octets: number;
}

/** A TCP server that decodes each connection's stream. */
export class TcpSink {
  readonly connections: DecodedConnection[] = [];
  private server: net.Server;

  private constructor(server: net.Server) {
    this.server = server;
    server.on('connection', (socket) => {
      const c: DecodedConnection = { socket, messages: [], octets: 0 };
      this.connections.push(c);
      const stream = new StreamDecoder(new SessionDecoder({ transport: 'tcp' }));
      socket.on('data', (chunk: Buffer) => {
        c.octets += chunk.length;
        stream.push(chunk, (m) => c.messages.push(m));
      });
      socket.on('error', () => {});
    });
  }

  static async listen(host = '127.0.0.1', port = 0): Promise<TcpSink> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => resolve());
    });
    return new TcpSink(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get messages(): DecodedMessage[] {
    return this.connections.flatMap((c) => c.messages);
  }

  get recordCount(): number {
    return this.messages.reduce((n, m) => n + m.records.length, 0);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A UDP socket that decodes every datagram (one session per sender address:port). */
export class UdpSink {
  readonly messages: DecodedMessage[] = [];
  readonly datagramSizes: number[] = [];
  private readonly decoders = new Map<string, SessionDecoder>();

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}|${rinfo.port}`;
      let d = this.decoders.get(key);
      if (!d) this.decoders.set(key, (d = new SessionDecoder({ transport: 'udp' })));
      this.datagramSizes.push(msg.length);
      this.messages.push(d.decodeMessage(msg));
    });
  }

  static async bind(host = '127.0.0.1', port = 0): Promise<UdpSink> {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => resolve());
    });
    return new UdpSink(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  get recordCount(): number {
    return this.messages.reduce((n, m) => n + m.records.length, 0);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 with nothing listening (bound and released; good enough for tests). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen({ host, port: 0 }, () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
