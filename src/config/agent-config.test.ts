import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.ts';
import { parseAgentConfig } from './agent-config.ts';
import { configProblems } from './problems.ts';
import { expectProblem, expectProblems, warningKeys } from './test-helpers.ts';

/** The shape of Antrea v2.3's rendered antrea-agent.conf (trimmed), as a user would edit it. */
const RENDERED_AGENT_CONF = `
featureGates:
#  AntreaProxy: true
ovsBridge: "br-int"
hostGateway: "antrea-gw0"
trafficEncapMode: "encap"
tunnelType: "geneve"
tunnelPort: 0
defaultMTU: 0
packetInRate: 500
wireGuard:
  port: 51820
egress:
  exceptCIDRs:
  maxEgressIPsPerNode: 255
serviceCIDR: ""
apiPort: 10350
enablePrometheusMetrics: true
flowExporter:
  # Enable FlowExporter ...
  enable: false
  flowCollectorAddr: "flow-aggregator/flow-aggregator:4739:tls"
  flowPollInterval: "5s"
  activeFlowExportTimeout: "5s"
  idleFlowExportTimeout: "15s"
nodePortLocal:
  enable: false
  portRange: "61000-62000"
multicast:
  enable: false
  igmpQueryVersions:
  - 1
  - 2
  - 3
  igmpQueryInterval: "125s"
antreaProxy:
  enable: true
  proxyAll: false
auditLogging:
  maxSize: 500
  compress: true
secondaryNetwork:
  ovsBridges:
`;

const ENABLED = 'featureGates:\n  FlowExporter: true\nflowExporter:\n  enable: true\n';

function enabled(extra: string): string {
  return ENABLED + extra.replace(/^(?=.)/gm, '  ');
}

describe('parseAgentConfig: defaults', () => {
  it('fills every default from an empty file', () => {
    const { config, warnings } = parseAgentConfig('');
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.featureGates, { FlowExporter: false });
    const fe = config.flowExporter;
    assert.equal(fe.enabled, false);
    assert.equal(fe.enable, false);
    assert.equal(fe.flowCollectorAddr, 'flow-aggregator/flow-aggregator:4739:tls');
    assert.deepEqual(fe.flowCollector, {
      host: 'flow-aggregator/flow-aggregator',
      hostKind: 'service',
      isServiceRef: true,
      namespace: 'flow-aggregator',
      name: 'flow-aggregator',
      port: 4739,
      proto: 'tls',
    });
    assert.equal(fe.flowPollInterval, 5_000);
    assert.equal(fe.activeFlowExportTimeout, 5_000);
    assert.equal(fe.idleFlowExportTimeout, 15_000);
    assert.equal(fe.staleConnectionTimeout, 300_000);
    assert.deepEqual(fe.conntrackZones, []);
    assert.deepEqual(fe.nflog, { enable: false, group: 100, prefixFormat: 'fv:{direction}:{action}:{namespace}/{name}:{rule}' });
    assert.deepEqual(fe.tls, { insecureSkipVerify: false });
    assert.equal(fe.maxConnections, 1_000_000);
  });

  it('reads the rendered upstream file, ignoring the keys it does not use', () => {
    const { config, warnings } = parseAgentConfig(RENDERED_AGENT_CONF);
    assert.deepEqual(warnings, []);
    assert.equal(config.flowExporter.enabled, false);
    assert.equal(config.flowExporter.flowPollInterval, 5_000);
  });

  it('treats null sections and empty strings as unset (Go zero values)', () => {
    const { config } = parseAgentConfig(
      'featureGates:\nflowExporter:\n  flowCollectorAddr: ""\n  flowPollInterval:\n  nflog:\n  tls:\n',
    );
    assert.equal(config.flowExporter.flowCollectorAddr, 'flow-aggregator/flow-aggregator:4739:tls');
    assert.equal(config.flowExporter.flowPollInterval, 5_000);
  });

  it('is enabled only with both the feature gate and flowExporter.enable', () => {
    assert.equal(parseAgentConfig(ENABLED).config.flowExporter.enabled, true);
    const gateOnly = parseAgentConfig('featureGates:\n  FlowExporter: true\n');
    assert.equal(gateOnly.config.flowExporter.enabled, false);
    assert.deepEqual(gateOnly.warnings, []);
    const enableOnly = parseAgentConfig('flowExporter:\n  enable: true\n');
    assert.equal(enableOnly.config.flowExporter.enabled, false);
    assert.deepEqual(warningKeys(enableOnly.warnings), ['FEATURE_GATE_DISABLED flowExporter.enable']);
    assert.match(enableOnly.warnings[0]?.message ?? '', /featureGates\.FlowExporter is not enabled/);
  });

  it('accepts YAML 1.1 booleans as Go yaml.v2 does', () => {
    const { config } = parseAgentConfig('featureGates:\n  FlowExporter: yes\nflowExporter:\n  enable: on\n');
    assert.equal(config.flowExporter.enabled, true);
  });

  it('keeps other feature gates out of the way', () => {
    const { config, warnings } = parseAgentConfig('featureGates:\n  AntreaProxy: true\n  Multicast: "whatever"\n  FlowExporter: true\n');
    assert.equal(config.featureGates.FlowExporter, true);
    assert.deepEqual(warnings, []);
  });
});

describe('parseAgentConfig: flowExporter values', () => {
  it('reads every upstream key', () => {
    const { config, warnings } = parseAgentConfig(
      enabled('flowCollectorAddr: "[fd00::5]:9995:udp"\nflowPollInterval: 1s\nactiveFlowExportTimeout: 2s\nidleFlowExportTimeout: 1m30s\n'),
    );
    assert.deepEqual(warnings, []);
    const fe = config.flowExporter;
    assert.deepEqual([fe.flowCollector.host, fe.flowCollector.port, fe.flowCollector.proto], ['fd00::5', 9995, 'udp']);
    assert.equal(fe.flowCollectorAddr, '[fd00::5]:9995:udp');
    assert.equal(fe.flowPollInterval, 1_000);
    assert.equal(fe.activeFlowExportTimeout, 2_000);
    assert.equal(fe.idleFlowExportTimeout, 90_000);
  });

  it('reads our additions', () => {
    const { config, warnings } = parseAgentConfig(
      enabled(
        'conntrackZone: 65520\nnflog:\n  enable: true\n  group: 5\n  prefixFormat: "DENY {action} {namespace}/{name}"\n' +
          'tls:\n  caFile: /etc/fv/ca.crt\n  certFile: /etc/fv/tls.crt\n  keyFile: /etc/fv/tls.key\n  serverName: fa.example\n' +
          'maxConnections: 5000\n',
      ),
    );
    assert.deepEqual(warnings, []);
    const fe = config.flowExporter;
    assert.deepEqual(fe.conntrackZones, [65520]);
    assert.deepEqual(fe.nflog, { enable: true, group: 5, prefixFormat: 'DENY {action} {namespace}/{name}' });
    assert.deepEqual(fe.tls, {
      caFile: '/etc/fv/ca.crt',
      certFile: '/etc/fv/tls.crt',
      keyFile: '/etc/fv/tls.key',
      serverName: 'fa.example',
      insecureSkipVerify: false,
    });
    assert.equal(fe.maxConnections, 5000);
    assert.deepEqual(parseAgentConfig(enabled('conntrackZone: [65520, 65510, 65520]\n')).config.flowExporter.conntrackZones, [
      65520, 65510,
    ]);
  });

  it('clamps active and idle timeouts to flowPollInterval, with a warning', () => {
    const { config, warnings } = parseAgentConfig(
      enabled('flowPollInterval: 10s\nactiveFlowExportTimeout: 2s\nidleFlowExportTimeout: 3s\n'),
    );
    assert.equal(config.flowExporter.activeFlowExportTimeout, 10_000);
    assert.equal(config.flowExporter.idleFlowExportTimeout, 10_000);
    assert.deepEqual(warningKeys(warnings), [
      'DURATION_CLAMPED flowExporter.activeFlowExportTimeout',
      'DURATION_CLAMPED flowExporter.idleFlowExportTimeout',
    ]);
    assert.match(warnings[0]?.message ?? '', /"2s" is below flowPollInterval \(10s\); using 10s/);
    // The default idle timeout (15s) is clamped too when the poll interval is longer.
    const long = parseAgentConfig(enabled('flowPollInterval: 20s\n'));
    assert.equal(long.config.flowExporter.idleFlowExportTimeout, 20_000);
    assert.equal(long.config.flowExporter.activeFlowExportTimeout, 20_000);
  });

  it('derives staleConnectionTimeout as upstream', () => {
    const stale = (extra: string) => parseAgentConfig(enabled(extra)).config.flowExporter.staleConnectionTimeout;
    assert.equal(stale(''), 300_000);
    assert.equal(stale('activeFlowExportTimeout: 5m\nidleFlowExportTimeout: 5m\n'), 300_000);
    assert.equal(stale('activeFlowExportTimeout: 6m\n'), 720_000);
    assert.equal(stale('idleFlowExportTimeout: 10m\nactiveFlowExportTimeout: 7m\n'), 1_200_000);
  });
});

describe('parseAgentConfig: validation errors', () => {
  it('refuses a poll interval under 1s', () => {
    const err = expectProblem(() => parseAgentConfig(enabled('flowPollInterval: 500ms\n')), {
      key: 'flowExporter.flowPollInterval',
      code: 'DURATION_TOO_SMALL',
      message: /^flowExporter\.flowPollInterval: "500ms" is below the minimum of 1s \(line 5, column 21\)$/,
      line: 5,
    });
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.context.key, 'flowExporter.flowPollInterval');
  });

  it('refuses malformed durations', () => {
    expectProblems(
      () => parseAgentConfig(enabled('flowPollInterval: 5\nactiveFlowExportTimeout: 1d\nidleFlowExportTimeout: [1]\n')),
      [
        { key: 'flowExporter.flowPollInterval', code: 'DURATION_INVALID', message: /"5" is not a valid duration: missing unit/ },
        { key: 'flowExporter.activeFlowExportTimeout', code: 'DURATION_INVALID', message: /unknown unit "d"/ },
        { key: 'flowExporter.idleFlowExportTimeout', code: 'TYPE_MISMATCH', message: /expected a duration string.*got a list/ },
      ],
    );
  });

  it('refuses bad collector addresses', () => {
    const cases: Array<[string, RegExp]> = [
      ['10.0.0.1:4739:sctp', /unsupported protocol "sctp"/],
      ['10.0.0.1:99999', /port 99999 is out of range 1\.\.65535/],
      ['10.0.0.1:0:tcp', /port 0 is out of range/],
      ['fd00::1:4739', /IPv6 addresses must be enclosed in brackets/],
      ['a/b/c', /invalid Service reference/],
    ];
    for (const [addr, message] of cases) {
      expectProblem(() => parseAgentConfig(enabled(`flowCollectorAddr: "${addr}"\n`)), {
        key: 'flowExporter.flowCollectorAddr',
        code: 'ADDRESS_INVALID',
        message: new RegExp(`"${addr.replace(/[.[\]]/g, '\\$&')}" is not a valid collector address: ${message.source}`),
      });
    }
  });

  it('refuses wrong types, naming the value', () => {
    expectProblems(() => parseAgentConfig('featureGates:\n  FlowExporter: "maybe"\nflowExporter:\n  enable: 1\n'), [
      { key: 'featureGates.FlowExporter', code: 'TYPE_MISMATCH', message: /expected true or false, got "maybe"/ },
      { key: 'flowExporter.enable', code: 'TYPE_MISMATCH', message: /expected true or false, got 1/ },
    ]);
    expectProblem(() => parseAgentConfig('flowExporter: [1, 2]\n'), {
      key: 'flowExporter',
      code: 'TYPE_MISMATCH',
      message: /expected a mapping, got a list/,
    });
    expectProblem(() => parseAgentConfig('featureGates: true\n'), {
      key: 'featureGates',
      code: 'TYPE_MISMATCH',
      message: /expected a mapping, got true/,
    });
  });

  it('refuses bad values of our additions', () => {
    expectProblems(
      () =>
        parseAgentConfig(
          enabled(
            'conntrackZone: 70000\nnflog:\n  group: -1\n  prefixFormat: "{policy}"\ntls:\n  certFile: /a.crt\nmaxConnections: 0\n',
          ),
        ),
      [
        { key: 'flowExporter.conntrackZone', code: 'VALUE_OUT_OF_RANGE', message: /70000 is not a conntrack zone/ },
        { key: 'flowExporter.nflog.group', code: 'VALUE_TOO_SMALL', message: /-1 is below the minimum of 0/ },
        { key: 'flowExporter.nflog.prefixFormat', code: 'NFLOG_PREFIX_INVALID', message: /unknown placeholder \{policy\}/ },
        { key: 'flowExporter.maxConnections', code: 'VALUE_TOO_SMALL', message: /0 is below the minimum of 1/ },
        { key: 'flowExporter.tls.keyFile', code: 'REQUIRED', message: /certFile and keyFile must be given together/ },
      ],
    );
    expectProblem(() => parseAgentConfig(enabled('conntrackZone: [1, "x"]\n')), {
      key: 'flowExporter.conntrackZone',
      code: 'VALUE_OUT_OF_RANGE',
      message: /"x" is not a conntrack zone/,
    });
  });

  it('collects every problem into one error with line numbers', () => {
    const err = expectProblems(
      () => parseAgentConfig(enabled('flowPollInterval: 100ms\nflowCollectorAddr: "x:1:quic"\nidleFlowExportTimeout: soon\n')),
      [
        { key: 'flowExporter.flowPollInterval', code: 'DURATION_TOO_SMALL', line: 5 },
        { key: 'flowExporter.flowCollectorAddr', code: 'ADDRESS_INVALID', line: 6 },
        { key: 'flowExporter.idleFlowExportTimeout', code: 'DURATION_INVALID', line: 7 },
      ],
    );
    assert.match(err.message, /^antrea-agent\.conf: invalid configuration \(3 problems\):\n {2}- flowExporter\.flowPollInterval/);
    assert.equal(err.context.problems, 3);
  });

  it('names the source file given', () => {
    const err = expectProblem(() => parseAgentConfig(enabled('flowPollInterval: 1ms\n'), { source: '/etc/antrea/antrea-agent.conf' }), {
      key: 'flowExporter.flowPollInterval',
      code: 'DURATION_TOO_SMALL',
    });
    assert.match(err.message, /^\/etc\/antrea\/antrea-agent\.conf: /);
    assert.equal(configProblems(err)[0]?.context.source, '/etc/antrea/antrea-agent.conf');
  });
});

describe('parseAgentConfig: disabled flow export (upstream validates only when enabled)', () => {
  it('turns problems of the flowExporter section into warnings and uses defaults', () => {
    const { config, warnings } = parseAgentConfig(
      'flowExporter:\n  enable: false\n  flowPollInterval: 500ms\n  flowCollectorAddr: "x:1:quic"\n  activeFlowExportTimeout: 1d\n',
    );
    assert.equal(config.flowExporter.flowPollInterval, 5_000);
    assert.equal(config.flowExporter.activeFlowExportTimeout, 5_000);
    assert.equal(config.flowExporter.flowCollectorAddr, 'flow-aggregator/flow-aggregator:4739:tls');
    assert.deepEqual(warningKeys(warnings), [
      'ADDRESS_INVALID flowExporter.flowCollectorAddr',
      'DURATION_INVALID flowExporter.activeFlowExportTimeout',
      'DURATION_TOO_SMALL flowExporter.flowPollInterval',
    ]);
    for (const w of warnings) assert.match(w.message, /ignored because this section is disabled/);
  });

  it('still refuses a malformed enable switch', () => {
    expectProblem(() => parseAgentConfig('flowExporter:\n  enable: "sometimes"\n  flowPollInterval: 1ms\n'), {
      key: 'flowExporter.enable',
      code: 'TYPE_MISMATCH',
    });
  });
});

describe('parseAgentConfig: deprecated top-level keys', () => {
  it('uses them when the flowExporter keys are unset, with a deprecation warning each', () => {
    const { config, warnings } = parseAgentConfig(
      'featureGates:\n  FlowExporter: true\nflowExporter:\n  enable: true\n' +
        'flowCollectorAddr: "10.1.1.1:4739:tcp"\nflowPollInterval: 2s\nactiveFlowExportTimeout: 3s\nidleFlowExportTimeout: 4s\n',
    );
    const fe = config.flowExporter;
    assert.equal(fe.flowCollectorAddr, '10.1.1.1:4739:tcp');
    assert.equal(fe.flowCollector.proto, 'tcp');
    assert.deepEqual([fe.flowPollInterval, fe.activeFlowExportTimeout, fe.idleFlowExportTimeout], [2_000, 3_000, 4_000]);
    assert.deepEqual(warningKeys(warnings), [
      'DEPRECATED_KEY activeFlowExportTimeout',
      'DEPRECATED_KEY flowCollectorAddr',
      'DEPRECATED_KEY flowPollInterval',
      'DEPRECATED_KEY idleFlowExportTimeout',
    ]);
    const poll = warnings.find((w) => w.key === 'flowPollInterval');
    assert.match(poll?.message ?? '', /^flowPollInterval: deprecated key, use flowExporter\.flowPollInterval instead \(line 6, column 19\)$/);
  });

  it('ignores them, with a warning, when the flowExporter key is set', () => {
    const { config, warnings } = parseAgentConfig(enabled('flowPollInterval: 3s\n') + 'flowPollInterval: 9s\n');
    assert.equal(config.flowExporter.flowPollInterval, 3_000);
    assert.deepEqual(warningKeys(warnings), ['DEPRECATED_KEY flowPollInterval']);
    assert.match(warnings[0]?.message ?? '', /ignored because flowExporter\.flowPollInterval is set/);
  });

  it('validates them like the keys they stand for', () => {
    expectProblems(() => parseAgentConfig(`${ENABLED}flowPollInterval: 200ms\nflowCollectorAddr: "h:x"\n`), [
      { key: 'flowPollInterval', code: 'DURATION_TOO_SMALL', message: /"200ms" is below the minimum of 1s/ },
      { key: 'flowCollectorAddr', code: 'ADDRESS_INVALID', message: /invalid port "x"/ },
    ]);
  });
});

describe('parseAgentConfig: warnings', () => {
  it('names unknown keys inside flowExporter, and ignores unknown keys elsewhere', () => {
    const { warnings } = parseAgentConfig(
      enabled('flowPollIntervall: 5s\nnflog:\n  grp: 1\n') + 'someFutureKey: 1\nantreaProxy:\n  newThing: true\n',
    );
    assert.deepEqual(warningKeys(warnings), ['UNKNOWN_KEY flowExporter.flowPollIntervall', 'UNKNOWN_KEY flowExporter.nflog.grp']);
    assert.match(warnings[0]?.message ?? '', /^flowExporter\.flowPollIntervall: unknown key \(ignored\) \(line 5, column 3\)$/);
  });

  it('warns about duplicate keys in the flow exporter settings only', () => {
    const { config, warnings } = parseAgentConfig(enabled('flowPollInterval: 2s\nflowPollInterval: 3s\n') + 'ovsBridge: a\novsBridge: b\n');
    assert.equal(config.flowExporter.flowPollInterval, 3_000);
    assert.deepEqual(warningKeys(warnings), ['DUPLICATE_KEY flowExporter.flowPollInterval']);
  });

  it('warns that TLS options are ignored for a tcp or udp collector', () => {
    const { warnings } = parseAgentConfig(enabled('flowCollectorAddr: "1.2.3.4:4739:tcp"\ntls:\n  caFile: /ca.crt\n'));
    assert.deepEqual(warningKeys(warnings), ['IGNORED flowExporter.tls']);
  });
});

describe('parseAgentConfig: malformed files', () => {
  it('reports YAML syntax errors with line and column', () => {
    let err: unknown;
    try {
      parseAgentConfig('flowExporter:\n  enable: true\n   flowPollInterval: [5s\n');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'CONFIG_SYNTAX');
    assert.ok(configProblems(err).length >= 1);
    for (const p of configProblems(err)) {
      assert.equal(p.code, 'YAML_SYNTAX');
      assert.ok(typeof p.context.line === 'number' && p.context.line >= 2 && p.context.line <= 4, String(p.context.line));
      assert.equal(typeof p.context.column, 'number');
    }
    assert.equal(typeof err.context.line, 'number');
    assert.equal(typeof err.context.column, 'number');
    assert.match(err.message, /^antrea-agent\.conf: invalid YAML \(\d problems\):\n {2}- invalid YAML: .* \(line \d+, column \d+\)/);
    assert.match(
      ((): string => {
        try {
          parseAgentConfig('a: "x\n');
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      })(),
      /^antrea-agent\.conf: invalid YAML: Missing closing "quote \(line 2, column 1\)$/,
    );
  });

  it('refuses a document that is not a mapping', () => {
    for (const text of ['- a\n- b\n', 'just text\n', '42\n']) {
      expectProblem(() => parseAgentConfig(text), { key: '', code: 'TYPE_MISMATCH', message: /must be a YAML mapping/ });
    }
  });

  it('only ever throws ConfigError', () => {
    for (const text of ['a: *unknown\n', '? [a]\n: 1\n', 'a: "unterminated\n', '\t- tab\n', 'a: 1\n---\nb: 2\n']) {
      assert.throws(() => parseAgentConfig(text), ConfigError, JSON.stringify(text));
    }
  });
});
