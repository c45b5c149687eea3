import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.ts';
import {
  AGENT_ADDRESS_OPTIONS,
  AGGREGATOR_ADDRESS_OPTIONS,
  formatCollectorAddress,
  joinHostPort,
  parseAgentCollectorAddress,
  parseAggregatorCollectorAddress,
  tryParseCollectorAddress,
} from './address.ts';
import type { AddressParseOptions } from './address.ts';

function reason(text: string, options: AddressParseOptions = AGENT_ADDRESS_OPTIONS): string {
  const r = tryParseCollectorAddress(text, options);
  assert.equal(r.ok, false, `${text} should be refused`);
  return r.ok ? '' : r.reason;
}

describe('agent flowCollectorAddr', () => {
  it('parses the default Service reference', () => {
    assert.deepEqual(parseAgentCollectorAddress('flow-aggregator/flow-aggregator:4739:tls'), {
      host: 'flow-aggregator/flow-aggregator',
      hostKind: 'service',
      isServiceRef: true,
      namespace: 'flow-aggregator',
      name: 'flow-aggregator',
      port: 4739,
      proto: 'tls',
    });
  });

  it('defaults the port to 4739 and the protocol to tls', () => {
    const a = parseAgentCollectorAddress('flow-aggregator/flow-aggregator');
    assert.equal(a.port, 4739);
    assert.equal(a.proto, 'tls');
    const b = parseAgentCollectorAddress('10.0.0.1:4740');
    assert.deepEqual([b.host, b.port, b.proto, b.hostKind, b.isServiceRef], ['10.0.0.1', 4740, 'tls', 'ipv4', false]);
    const c = parseAgentCollectorAddress('10.0.0.1::udp');
    assert.deepEqual([c.port, c.proto], [4739, 'udp']);
    const d = parseAgentCollectorAddress('collector.example.com:');
    assert.deepEqual([d.host, d.port, d.proto, d.hostKind], ['collector.example.com', 4739, 'tls', 'dns']);
  });

  it('parses IPv4 with port and protocol', () => {
    const a = parseAgentCollectorAddress('192.168.1.10:4739:tcp');
    assert.deepEqual([a.host, a.port, a.proto, a.hostKind], ['192.168.1.10', 4739, 'tcp', 'ipv4']);
  });

  it('parses bracketed IPv6, with and without port and protocol', () => {
    const a = parseAgentCollectorAddress('[fd00:10:96::1]:4739:udp');
    assert.deepEqual([a.host, a.port, a.proto, a.hostKind], ['fd00:10:96::1', 4739, 'udp', 'ipv6']);
    const b = parseAgentCollectorAddress('[::1]');
    assert.deepEqual([b.host, b.port, b.proto], ['::1', 4739, 'tls']);
    const c = parseAgentCollectorAddress('[::1]:9995');
    assert.deepEqual([c.host, c.port, c.proto], ['::1', 9995, 'tls']);
    const d = parseAgentCollectorAddress('[::ffff:10.0.0.1]::tcp');
    assert.deepEqual([d.host, d.port, d.proto], ['::ffff:10.0.0.1', 4739, 'tcp']);
  });

  it('accepts the protocol in any letter case', () => {
    assert.equal(parseAgentCollectorAddress('1.2.3.4:1:TCP').proto, 'tcp');
    assert.equal(parseAgentCollectorAddress('1.2.3.4:1:Udp').proto, 'udp');
    assert.equal(parseAgentCollectorAddress('1.2.3.4:1:TLS').proto, 'tls');
  });

  it('parses namespace/name Service references', () => {
    const a = parseAgentCollectorAddress('monitoring/ipfix-collector:9995:udp');
    assert.deepEqual([a.namespace, a.name, a.port, a.proto, a.isServiceRef], ['monitoring', 'ipfix-collector', 9995, 'udp', true]);
  });

  it('refuses bad protocols, ports and hosts with a reason', () => {
    assert.match(reason('1.2.3.4:4739:sctp'), /unsupported protocol "sctp".*"tls", "tcp", "udp"/);
    assert.match(reason('1.2.3.4:4739:'), /unsupported protocol ""/);
    assert.match(reason('1.2.3.4:0'), /port 0 is out of range 1\.\.65535/);
    assert.match(reason('1.2.3.4:65536'), /port 65536 is out of range/);
    assert.match(reason('1.2.3.4:-1'), /invalid port "-1"/);
    assert.match(reason('1.2.3.4:47x9'), /invalid port "47x9"/);
    assert.match(reason('1.2.3.4:123456'), /invalid port/);
    assert.match(reason(''), /empty address/);
    assert.match(reason(':4739'), /missing host/);
    assert.match(reason(' 1.2.3.4'), /whitespace/);
    assert.match(reason('1.2.3.4:4739:tcp:x'), /too many/);
    assert.match(reason('fd00::1'), /IPv6 addresses must be enclosed in brackets/);
    assert.match(reason('fd00::1:4739:tcp'), /IPv6 addresses must be enclosed in brackets/);
    assert.match(reason('[fd00::1'), /missing "\]"/);
    assert.match(reason('[fd00::1]4739'), /unexpected "4739" after "\]"/);
    assert.match(reason('[1.2.3.4]:4739'), /not a valid IPv6 address/);
    assert.match(reason('[]:4739'), /missing host/);
    assert.match(reason('256.1.1.1:4739'), /not a valid IPv4 address/);
    assert.match(reason('a/b/c:4739'), /invalid Service reference/);
    assert.match(reason('/flow-aggregator'), /invalid Service namespace ""/);
    assert.match(reason('Flow-Aggregator/x'), /invalid Service namespace "Flow-Aggregator"/);
    assert.match(reason('ns/under_score'), /invalid Service name "under_score"/);
    assert.match(reason('bad host!:4739'), /not a valid IP address or DNS name/);
    assert.match(reason('-leading.example.com'), /not a valid IP address or DNS name/);
    assert.match(reason(`${'a'.repeat(64)}.com`), /not a valid IP address or DNS name/);
  });

  it('throws a ConfigError naming the value', () => {
    assert.throws(
      () => parseAgentCollectorAddress('1.2.3.4:4739:sctp'),
      (err: unknown) =>
        err instanceof ConfigError && err.code === 'ADDRESS_INVALID' && err.context.value === '1.2.3.4:4739:sctp',
    );
  });
});

describe('aggregator flowCollector.address', () => {
  it('defaults to tcp and port 4739', () => {
    const a = parseAggregatorCollectorAddress('10.10.0.5');
    assert.deepEqual([a.host, a.port, a.proto], ['10.10.0.5', 4739, 'tcp']);
    const b = parseAggregatorCollectorAddress('10.10.0.5:2055');
    assert.deepEqual([b.port, b.proto], [2055, 'tcp']);
  });

  it('accepts udp and (our addition) tls, and IPv6 in brackets', () => {
    assert.equal(parseAggregatorCollectorAddress('10.10.0.5:4739:udp').proto, 'udp');
    assert.equal(parseAggregatorCollectorAddress('10.10.0.5:4739:tls').proto, 'tls');
    const c = parseAggregatorCollectorAddress('[2001:db8::5]:4739:udp');
    assert.deepEqual([c.host, c.port, c.proto], ['2001:db8::5', 4739, 'udp']);
  });

  it('accepts DNS names but not Service references', () => {
    assert.equal(parseAggregatorCollectorAddress('ipfix.example.com:4739').hostKind, 'dns');
    assert.match(reason('flow-visibility/collector:4739', AGGREGATOR_ADDRESS_OPTIONS), /Service references are not supported/);
  });
});

describe('formatting', () => {
  it('joins hosts and ports like Go net.JoinHostPort', () => {
    assert.equal(joinHostPort('10.0.0.1', 4739), '10.0.0.1:4739');
    assert.equal(joinHostPort('fd00::1', 4739), '[fd00::1]:4739');
  });

  it('formats an address back to the configuration grammar', () => {
    for (const text of ['10.0.0.1:4739:tcp', '[fd00::1]:9995:udp', 'flow-aggregator/flow-aggregator:4739:tls']) {
      const a = parseAgentCollectorAddress(text);
      assert.equal(formatCollectorAddress(a), text);
      assert.deepEqual(parseAgentCollectorAddress(formatCollectorAddress(a)), a);
    }
    assert.equal(formatCollectorAddress(parseAgentCollectorAddress('[::1]')), '[::1]:4739:tls');
  });
});
