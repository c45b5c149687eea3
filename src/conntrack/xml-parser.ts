/**
 * Streaming parser of `conntrack -L -o xml[,ktimestamp]` output (libnetfilter_conntrack's XML):
 *
 *   <?xml ...?><conntrack>
 *   <flow>
 *     <meta direction="original">
 *       <layer3 protonum="2" protoname="ipv4"><src>A</src><dst>B</dst></layer3>
 *       <layer4 protonum="6" protoname="tcp"><sport>P</sport><dport>Q</dport></layer4>
 *       [<zone>Z</zone>] [<counters><packets>N</packets><bytes>M</bytes></counters>]
 *     </meta>
 *     <meta direction="reply"> ...same... </meta>
 *     <meta direction="independent">
 *       [<state>ESTABLISHED</state>] [<timeout>S</timeout>] [<mark>M</mark>] [<secmark>..</secmark>]
 *       [<zone>Z</zone>] [<use>U</use>] [<id>I</id>] [<assured/>] [<unreplied/>]
 *       [<timestamp><start>NS</start>[<stop>NS</stop>]</timestamp>] [<deltatime>S</deltatime>]
 *     </meta>
 *   </flow> ...
 *   </conntrack>
 *
 * The XML does not carry ICMP id/type/code, labels or the full status word: those come out as
 * 0 / null, and status is rebuilt from <assured/> and <unreplied/> (plus IPS_CONFIRMED).
 * The TCP state LISTEN is the kernel's TCP_CONNTRACK_LISTEN, named SYN_SENT2 upstream.
 */
import { ConntrackError } from '../errors.ts';
import { IPPROTO_TCP, IPS } from './constants.ts';
import { type ConntrackEntry, type ConntrackTuple, emptyTuple, TCP_STATES, type TcpStateName } from './entry.ts';

function section(flow: string, from: number, to: number): [number, number] {
  return [from, to < 0 ? flow.length : to];
}

function tagText(s: string, tag: string, from: number, to: number): string | undefined {
  const open = `<${tag}>`;
  const i = s.indexOf(open, from);
  if (i < 0 || i >= to) return undefined;
  const start = i + open.length;
  const j = s.indexOf(`</${tag}>`, start);
  if (j < 0 || j > to) return undefined;
  return s.slice(start, j);
}

function hasEmptyTag(s: string, tag: string, from: number, to: number): boolean {
  const i = s.indexOf(`<${tag}/>`, from);
  return i >= 0 && i < to;
}

function toUint(text: string | undefined, what: string, offset: number): number {
  if (text === undefined) return 0;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new ConntrackError('XML_VALUE', `bad ${what} "${text}" in conntrack XML`, { offset, what });
  }
  return n;
}

function toBig(text: string | undefined, what: string, offset: number): bigint {
  if (text === undefined) return 0n;
  if (!/^\d+$/.test(text)) {
    throw new ConntrackError('XML_VALUE', `bad ${what} "${text}" in conntrack XML`, { offset, what });
  }
  return BigInt(text);
}

function attrNumber(s: string, element: string, attr: string, from: number, to: number): number | undefined {
  const i = s.indexOf(`<${element} `, from);
  if (i < 0 || i >= to) return undefined;
  const key = `${attr}="`;
  const k = s.indexOf(key, i);
  const close = s.indexOf('>', i);
  if (k < 0 || k > close) return undefined;
  const end = s.indexOf('"', k + key.length);
  return Number(s.slice(k + key.length, end));
}

interface TupleResult {
  tuple: ConntrackTuple;
  l3: number;
  packets: bigint;
  bytes: bigint;
}

function parseTupleMeta(flow: string, from: number, to: number, base: number): TupleResult {
  const tuple = emptyTuple();
  const l3 = attrNumber(flow, 'layer3', 'protonum', from, to);
  if (l3 === undefined) throw new ConntrackError('XML_FLOW', 'conntrack XML tuple without <layer3>', { offset: base + from });
  tuple.src = tagText(flow, 'src', from, to) ?? '';
  tuple.dst = tagText(flow, 'dst', from, to) ?? '';
  tuple.protocol = attrNumber(flow, 'layer4', 'protonum', from, to) ?? 0;
  tuple.srcPort = toUint(tagText(flow, 'sport', from, to), 'sport', base + from);
  tuple.dstPort = toUint(tagText(flow, 'dport', from, to), 'dport', base + from);
  const packets = toBig(tagText(flow, 'packets', from, to), 'packets', base + from);
  const bytes = toBig(tagText(flow, 'bytes', from, to), 'bytes', base + from);
  return { tuple, l3, packets, bytes };
}

const STATE_NAMES = new Map<string, TcpStateName>(TCP_STATES.map((s) => [s, s]));
STATE_NAMES.set('LISTEN', 'SYN_SENT2');

/**
 * Parses one `<flow>...</flow>` element. `base` is its offset in the whole output (for errors).
 * @param nowSeconds wall clock used to turn <deltatime> into a start time when <timestamp> is absent
 */
export function parseXmlFlow(flow: string, base = 0, nowSeconds = Date.now() / 1000): ConntrackEntry {
  const o = flow.indexOf('<meta direction="original">');
  const r = flow.indexOf('<meta direction="reply">');
  const ind = flow.indexOf('<meta direction="independent">');
  if (o < 0 || r < 0) {
    throw new ConntrackError('XML_FLOW', 'conntrack XML flow without original and reply tuples', { offset: base });
  }
  const [os, oe] = section(flow, o, r);
  const [rs, re] = section(flow, r, ind);
  const orig = parseTupleMeta(flow, os, oe, base);
  const reply = parseTupleMeta(flow, rs, re, base);
  const [is, ie] = ind < 0 ? [flow.length, flow.length] : section(flow, ind, flow.length);

  let status = IPS.CONFIRMED;
  if (hasEmptyTag(flow, 'assured', is, ie)) status |= IPS.ASSURED;
  if (ind >= 0 && !hasEmptyTag(flow, 'unreplied', is, ie)) status |= IPS.SEEN_REPLY;

  const stateText = tagText(flow, 'state', is, ie);
  const tcpState = orig.tuple.protocol === IPPROTO_TCP && stateText !== undefined ? (STATE_NAMES.get(stateText) ?? '') : '';

  let startTime = toBig(tagText(flow, 'start', is, ie), 'start', base + is);
  const stopTime = toBig(tagText(flow, 'stop', is, ie), 'stop', base + is);
  const delta = tagText(flow, 'deltatime', is, ie);
  if (startTime === 0n && delta !== undefined) {
    startTime = BigInt(Math.floor(nowSeconds) - toUint(delta, 'deltatime', base + is)) * 1_000_000_000n;
  }

  return {
    family: orig.l3 === 10 ? 'ipv6' : 'ipv4',
    original: orig.tuple,
    reply: reply.tuple,
    origPackets: orig.packets,
    origBytes: orig.bytes,
    replyPackets: reply.packets,
    replyBytes: reply.bytes,
    startTime,
    stopTime,
    tcpState,
    status,
    mark: toUint(tagText(flow, 'mark', is, ie), 'mark', base + is),
    labels: null,
    zone: toUint(tagText(flow, 'zone', is, ie), 'zone', base + is),
    id: toUint(tagText(flow, 'id', is, ie), 'id', base + is),
    timeout: toUint(tagText(flow, 'timeout', is, ie), 'timeout', base + is),
  };
}

/**
 * Incremental splitter: feed stdout chunks, get one callback per complete `<flow>` element.
 * Malformed flows are reported to `onError` and skipped.
 */
export class ConntrackXmlStream {
  private pending = '';
  private consumed = 0;
  flows = 0;
  malformed = 0;

  constructor(
    private readonly onFlow: (entry: ConntrackEntry) => void,
    private readonly onError: (err: ConntrackError) => void,
    private readonly nowSeconds: () => number = () => Date.now() / 1000,
  ) {}

  push(chunk: string): void {
    this.pending += chunk;
    let pos = 0;
    for (;;) {
      const start = this.pending.indexOf('<flow', pos);
      if (start < 0) break;
      const end = this.pending.indexOf('</flow>', start);
      if (end < 0) {
        pos = start;
        break;
      }
      const stop = end + '</flow>'.length;
      const flow = this.pending.slice(start, stop);
      let entry: ConntrackEntry | undefined;
      try {
        entry = parseXmlFlow(flow, this.consumed + start, this.nowSeconds());
      } catch (err) {
        this.malformed++;
        this.onError(
          err instanceof ConntrackError
            ? err
            : new ConntrackError('XML_FLOW', String(err), { offset: this.consumed + start }),
        );
      }
      if (entry) {
        this.flows++;
        this.onFlow(entry);
      }
      pos = stop;
    }
    this.consumed += pos;
    this.pending = this.pending.slice(pos);
  }

  /** Call at end of input: leftover bytes other than the closing tag are reported as truncation. */
  end(): void {
    const rest = this.pending.replace(/<\/conntrack>|\s/g, '');
    if (rest.includes('<flow')) {
      this.malformed++;
      this.onError(new ConntrackError('XML_TRUNCATED', 'conntrack XML ended inside a <flow>', { offset: this.consumed }));
    }
    this.pending = '';
  }
}
