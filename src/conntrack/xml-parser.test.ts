import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConntrackError } from '../errors.ts';
import { IPS } from './constants.ts';
import type { ConntrackEntry } from './entry.ts';
import { ConntrackXmlStream, parseXmlFlow } from './xml-parser.ts';

const xml = readFileSync(new URL('./fixtures/node1-xml.xml', import.meta.url), 'utf8');

function parseAll(text: string, chunk = text.length): { entries: ConntrackEntry[]; errors: ConntrackError[] } {
  const entries: ConntrackEntry[] = [];
  const errors: ConntrackError[] = [];
  const s = new ConntrackXmlStream((e) => entries.push(e), (e) => errors.push(e), () => 1795623400);
  for (let i = 0; i < text.length; i += chunk) s.push(text.slice(i, i + chunk));
  s.end();
  return { entries, errors };
}

describe('conntrack XML parser', () => {
  it('parses the captured XML of a real table', () => {
    const { entries, errors } = parseAll(xml);
    assert.equal(errors.length, 0);
    assert.equal(entries.length, 7);
    const tcp = entries.find((e) => e.original.srcPort === 40001);
    assert.ok(tcp);
    assert.equal(tcp.family, 'ipv4');
    assert.equal(tcp.original.src, '10.244.1.10');
    assert.equal(tcp.original.dst, '10.244.2.10');
    assert.equal(tcp.original.protocol, 6);
    assert.equal(tcp.reply.srcPort, 8080);
    assert.equal(tcp.origPackets, 4n);
    assert.equal(tcp.origBytes, 231n);
    assert.equal(tcp.replyPackets, 3n);
    assert.equal(tcp.replyBytes, 179n);
    assert.equal(tcp.tcpState, 'ESTABLISHED');
    assert.equal(tcp.status & IPS.ASSURED, IPS.ASSURED);
    assert.equal(tcp.status & IPS.SEEN_REPLY, IPS.SEEN_REPLY);
    assert.ok(tcp.startTime > 1_700_000_000_000_000_000n);
    assert.equal(tcp.id, 3277002956);
    const zone = entries.find((e) => e.zone === 7);
    assert.ok(zone);
    assert.equal(zone.status & IPS.SEEN_REPLY, 0, 'unreplied');
    const v6 = entries.find((e) => e.family === 'ipv6' && e.original.protocol === 6);
    assert.equal(v6?.original.src, 'fd00:244:1::10');
    assert.equal(v6?.tcpState, 'TIME_WAIT');
    const icmp = entries.find((e) => e.original.protocol === 1);
    assert.equal(icmp?.tcpState, '');
    assert.equal(icmp?.original.srcPort, 0);
  });

  it('gives the same result whatever the chunking of the output', () => {
    const whole = parseAll(xml).entries;
    for (const chunk of [1, 7, 64, 1000]) assert.deepEqual(parseAll(xml, chunk).entries, whole);
  });

  it('derives the start time from <deltatime> when there is no <timestamp>', () => {
    const flow =
      '<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>1.1.1.1</src><dst>2.2.2.2</dst></layer3>' +
      '<layer4 protonum="17" protoname="udp"><sport>1</sport><dport>2</dport></layer4></meta>' +
      '<meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>2.2.2.2</src><dst>1.1.1.1</dst></layer3>' +
      '<layer4 protonum="17" protoname="udp"><sport>2</sport><dport>1</dport></layer4></meta>' +
      '<meta direction="independent"><state>LISTEN</state><timeout>5</timeout><mark>3</mark><deltatime>10</deltatime></meta></flow>';
    const e = parseXmlFlow(flow, 0, 1000);
    assert.equal(e.startTime, 990n * 1_000_000_000n);
    assert.equal(e.mark, 3);
    assert.equal(e.tcpState, '', 'state of a non-TCP entry is ignored');
    const tcp = parseXmlFlow(flow.replaceAll('protonum="17"', 'protonum="6"'), 0, 1000);
    assert.equal(tcp.tcpState, 'SYN_SENT2', 'LISTEN is the kernel name of SYN_SENT2');
  });

  it('reports malformed and truncated flows as typed errors and keeps going', () => {
    const bad = xml.replace('<packets>4</packets>', '<packets>four</packets>');
    const r = parseAll(bad);
    assert.equal(r.entries.length, 6);
    assert.equal(r.errors[0].code, 'XML_VALUE');
    const cut = parseAll(xml.slice(0, xml.lastIndexOf('</flow>') - 5));
    assert.equal(cut.errors.at(-1)?.code, 'XML_TRUNCATED');
    assert.equal(parseAll('<flow><meta direction="original"></meta></flow>').errors[0].code, 'XML_FLOW');
  });
});
