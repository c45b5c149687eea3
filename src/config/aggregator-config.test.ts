import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAggregatorConfig } from './aggregator-config.ts';
import { expectProblem, expectProblems, warningKeys } from './test-helpers.ts';

/** flow-aggregator.conf as Antrea v2.3's manifest renders it with default values (comments trimmed). */
const RENDERED_V23 = `
mode: Aggregate
activeFlowRecordTimeout: 60s
inactiveFlowRecordTimeout: 90s
aggregatorTransportProtocol: "tls"
flowAggregatorAddress: ""
recordContents:
  podLabels: false
apiServer:
  apiPort: 10348
  tlsCipherSuites: ""
  tlsMinVersion: ""
flowCollector:
  enable: false
  address: ""
  #observationDomainID:
  recordFormat: "IPFIX"
  templateRefreshTimeout: "600s"
  maxIPFIXMsgSize: 0
clickHouse:
  enable: false
  database: "default"
  databaseURL: "tcp://clickhouse-clickhouse.flow-visibility.svc:9000"
  tls:
    insecureSkipVerify: false
    caCert: false
  debug: false
  compress: true
  commitInterval: "8s"
s3Uploader:
  enable: false
  bucketName: ""
  bucketPrefix: ""
  region: "us-west-2"
  recordFormat: "CSV"
  compress: true
  maxRecordsPerFile: 1e+06
  uploadInterval: "60s"
flowLogger:
  enable: false
  path: "/tmp/antrea-flows.log"
  maxSize: 100
  maxBackups: 3
  maxAge: 0
  compress: true
  recordFormat: "CSV"
  filters:
    []
  prettyPrint: true
`;

const parse = (text: string, env?: Record<string, string>) => parseAggregatorConfig(text, env ? { env } : {});

describe('parseAggregatorConfig: defaults', () => {
  it('fills every default from an empty file', () => {
    const { config, warnings } = parse('');
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, {
      mode: 'Aggregate',
      flowAggregatorAddress: '',
      activeFlowRecordTimeout: 60_000,
      inactiveFlowRecordTimeout: 90_000,
      aggregatorTransportProtocol: 'TLS',
      recordContents: { podLabels: false },
      apiServer: { apiPort: 10348, tlsCipherSuites: [], tokenFile: '', certDir: '' },
      clusterID: '',
      flowCollector: {
        enable: false,
        address: '',
        recordFormat: 'IPFIX',
        templateRefreshTimeout: 600_000,
        maxIPFIXMsgSize: 0,
        tls: { enable: false, minVersion: 'VersionTLS12', insecureSkipVerify: false },
      },
      clickHouse: {
        enable: false,
        database: 'default',
        databaseURL: 'tcp://clickhouse-clickhouse.flow-visibility.svc:9000',
        endpoint: {
          protocol: 'tcp',
          host: 'clickhouse-clickhouse.flow-visibility.svc',
          port: 9000,
          interface: 'native',
          secure: false,
        },
        debug: false,
        compress: true,
        commitInterval: 8_000,
        tls: { insecureSkipVerify: false, caCert: false },
      },
      s3Uploader: {
        enable: false,
        bucketName: '',
        bucketPrefix: '',
        region: 'us-west-2',
        recordFormat: 'CSV',
        compress: true,
        maxRecordsPerFile: 1_000_000,
        uploadInterval: 60_000,
      },
      flowLogger: {
        enable: false,
        path: '/tmp/antrea-flows.log',
        maxSize: 100,
        maxBackups: 3,
        maxAge: 0,
        compress: true,
        recordFormat: 'CSV',
        filters: [],
        prettyPrint: true,
      },
      embeddedStore: { enable: true, path: '', retention: 43_200_000 },
      ipfixCollector: { address: '0.0.0.0', port: 4739 },
    });
  });

  it('reads the file Antrea v2.3 renders to exactly the defaults', () => {
    const { config, warnings } = parse(RENDERED_V23);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, parse('').config);
  });

  it('applies defaults for Go zero values (0 and "")', () => {
    const { config } = parse(
      'mode: ""\naggregatorTransportProtocol: ""\napiServer:\n  apiPort: 0\nflowLogger:\n  maxSize: 0\n  maxBackups: 0\n  path: ""\n' +
        's3Uploader:\n  maxRecordsPerFile: 0\nflowCollector:\n  observationDomainID: ""\n',
    );
    assert.equal(config.mode, 'Aggregate');
    assert.equal(config.aggregatorTransportProtocol, 'TLS');
    assert.equal(config.apiServer.apiPort, 10348);
    assert.equal(config.flowLogger.maxSize, 100);
    assert.equal(config.flowLogger.maxBackups, 3);
    assert.equal(config.flowLogger.path, '/tmp/antrea-flows.log');
    assert.equal(config.s3Uploader.maxRecordsPerFile, 1_000_000);
    assert.equal(config.flowCollector.observationDomainID, undefined);
  });

  it('takes the S3 region from AWS_REGION when unset', () => {
    assert.equal(parse('', { AWS_REGION: 'eu-central-1' }).config.s3Uploader.region, 'eu-central-1');
    assert.equal(parse('s3Uploader:\n  region: ap-south-1\n', { AWS_REGION: 'eu-central-1' }).config.s3Uploader.region, 'ap-south-1');
  });

  it('enables the embedded store by default only without ClickHouse and in Aggregate mode', () => {
    assert.equal(parse('').config.embeddedStore.enable, true);
    assert.equal(parse('clickHouse:\n  enable: true\n').config.embeddedStore.enable, false);
    assert.equal(parse('mode: Proxy\nflowCollector:\n  enable: true\n  address: 1.2.3.4\n').config.embeddedStore.enable, false);
    assert.equal(parse('clickHouse:\n  enable: true\nembeddedStore:\n  enable: true\n').config.embeddedStore.enable, true);
  });
});

describe('parseAggregatorConfig: values', () => {
  it('reads every key', () => {
    const { config, warnings } = parse(`
mode: Proxy
activeFlowRecordTimeout: 3.5s
inactiveFlowRecordTimeout: 6s
aggregatorTransportProtocol: udp
flowAggregatorAddress: flow-aggregator.example.com
recordContents:
  podLabels: true
apiServer:
  apiPort: 10400
  tlsCipherSuites: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
  tlsMinVersion: VersionTLS13
  tokenFile: /var/run/fv/token
  certDir: /var/run/fv/certs
clusterID: my-cluster
flowCollector:
  enable: true
  address: "[2001:db8::10]:4739:tcp"
  observationDomainID: 4294967295
  recordFormat: JSON
  templateRefreshTimeout: 10m
  maxIPFIXMsgSize: 1400
  tls:
    enable: true
    caFile: /ca.crt
    certFile: /tls.crt
    keyFile: /tls.key
    serverName: collector.example.com
    minVersion: VersionTLS13
embeddedStore:
  enable: false
ipfixCollector:
  address: "::"
  port: 14739
`);
    assert.deepEqual(warnings, []);
    assert.equal(config.mode, 'Proxy');
    assert.equal(config.activeFlowRecordTimeout, 3_500);
    assert.equal(config.inactiveFlowRecordTimeout, 6_000);
    assert.equal(config.aggregatorTransportProtocol, 'UDP');
    assert.equal(config.flowAggregatorAddress, 'flow-aggregator.example.com');
    assert.equal(config.recordContents.podLabels, true);
    assert.deepEqual(config.apiServer, {
      apiPort: 10400,
      tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
      tlsMinVersion: 'VersionTLS13',
      tokenFile: '/var/run/fv/token',
      certDir: '/var/run/fv/certs',
    });
    assert.equal(config.clusterID, 'my-cluster');
    const fc = config.flowCollector;
    assert.equal(fc.address, '[2001:db8::10]:4739:tcp');
    assert.deepEqual(fc.collector, { host: '2001:db8::10', hostKind: 'ipv6', isServiceRef: false, port: 4739, proto: 'tls' });
    assert.equal(fc.observationDomainID, 4294967295);
    assert.equal(fc.recordFormat, 'JSON');
    assert.equal(fc.templateRefreshTimeout, 600_000);
    assert.equal(fc.maxIPFIXMsgSize, 1400);
    assert.deepEqual(fc.tls, {
      enable: true,
      caFile: '/ca.crt',
      certFile: '/tls.crt',
      keyFile: '/tls.key',
      serverName: 'collector.example.com',
      minVersion: 'VersionTLS13',
      insecureSkipVerify: false,
    });
    assert.deepEqual(config.ipfixCollector, { address: '::', port: 14739 });
  });

  it('reads the sink sections', () => {
    const { config, warnings } = parse(`
clickHouse:
  enable: true
  database: flows
  databaseURL: "https://[fd00::9]:8443/"
  debug: true
  compress: false
  commitInterval: 1s
  tls:
    insecureSkipVerify: true
    caCert: true
s3Uploader:
  enable: true
  bucketName: my-bucket
  bucketPrefix: antrea
  recordFormat: CSV
  compress: false
  maxRecordsPerFile: 5000
  uploadInterval: 2m
flowLogger:
  enable: true
  path: /var/log/flows.csv
  maxSize: 10
  maxBackups: 7
  maxAge: 30
  compress: false
  filters:
  - ingressNetworkPolicyRuleActions: [Drop, Reject]
  - egressNetworkPolicyRuleActions: [Drop, Reject]
  - {}
  prettyPrint: false
embeddedStore:
  enable: true
  path: /var/lib/flowvis
  retention: 1h30m
`);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.clickHouse, {
      enable: true,
      database: 'flows',
      databaseURL: 'https://[fd00::9]:8443/',
      endpoint: { protocol: 'https', host: 'fd00::9', port: 8443, interface: 'http', secure: true },
      debug: true,
      compress: false,
      commitInterval: 1_000,
      tls: { insecureSkipVerify: true, caCert: true },
    });
    assert.deepEqual(config.s3Uploader, {
      enable: true,
      bucketName: 'my-bucket',
      bucketPrefix: 'antrea',
      region: 'us-west-2',
      recordFormat: 'CSV',
      compress: false,
      maxRecordsPerFile: 5000,
      uploadInterval: 120_000,
    });
    assert.deepEqual(config.flowLogger, {
      enable: true,
      path: '/var/log/flows.csv',
      maxSize: 10,
      maxBackups: 7,
      maxAge: 30,
      compress: false,
      recordFormat: 'CSV',
      filters: [
        { ingressNetworkPolicyRuleActions: ['Drop', 'Reject'], egressNetworkPolicyRuleActions: [] },
        { ingressNetworkPolicyRuleActions: [], egressNetworkPolicyRuleActions: ['Drop', 'Reject'] },
        { ingressNetworkPolicyRuleActions: [], egressNetworkPolicyRuleActions: [] },
      ],
      prettyPrint: false,
    });
    assert.deepEqual(config.embeddedStore, { enable: true, path: '/var/lib/flowvis', retention: 5_400_000 });
  });

  it('accepts the transport protocol in any case, as upstream', () => {
    for (const [text, want] of [['tls', 'TLS'], ['Tcp', 'TCP'], ['UDP', 'UDP']] as const) {
      assert.equal(parse(`aggregatorTransportProtocol: ${text}\n`).config.aggregatorTransportProtocol, want);
    }
  });

  it('defaults the collector address to tcp:4739, and a "tls" address or tls.enable selects TLS', () => {
    const base = 'flowCollector:\n  enable: true\n';
    const proto = (extra: string) => parse(base + extra).config.flowCollector.collector;
    assert.deepEqual(proto('  address: 10.0.0.9\n'), { host: '10.0.0.9', hostKind: 'ipv4', isServiceRef: false, port: 4739, proto: 'tcp' });
    assert.equal(proto('  address: 10.0.0.9:4739:udp\n')?.proto, 'udp');
    assert.equal(proto('  address: 10.0.0.9:4739:tls\n')?.proto, 'tls');
    assert.equal(proto('  address: 10.0.0.9:4739\n  tls:\n    enable: true\n')?.proto, 'tls');
  });

  it('rounds flow record timeouts under 1s up to 1s, with a warning', () => {
    const { config, warnings } = parse('activeFlowRecordTimeout: 500ms\ninactiveFlowRecordTimeout: 0s\n');
    assert.equal(config.activeFlowRecordTimeout, 1_000);
    assert.equal(config.inactiveFlowRecordTimeout, 1_000);
    assert.deepEqual(warningKeys(warnings), ['DURATION_CLAMPED activeFlowRecordTimeout', 'DURATION_CLAMPED inactiveFlowRecordTimeout']);
    assert.match(warnings[0]?.message ?? '', /^activeFlowRecordTimeout: 500ms is below 1s; rounded up to 1s \(line 1, column 26\)$/);
  });
});

describe('parseAggregatorConfig: validation errors', () => {
  it('refuses bad top-level values', () => {
    expectProblems(
      () =>
        parse(
          'mode: aggregate\nactiveFlowRecordTimeout: 1y\ninactiveFlowRecordTimeout: 90\naggregatorTransportProtocol: sctp\n' +
            'flowAggregatorAddress: "not a host"\nrecordContents:\n  podLabels: "yes please"\nclusterID: [a]\n',
        ),
      [
        { key: 'mode', code: 'INVALID_ENUM', message: /"aggregate" is not one of "Aggregate", "Proxy" \(did you mean "Aggregate"\?/ },
        { key: 'activeFlowRecordTimeout', code: 'DURATION_INVALID', message: /unknown unit "y"/ },
        { key: 'inactiveFlowRecordTimeout', code: 'DURATION_INVALID', message: /"90" is not a valid duration: missing unit/ },
        { key: 'aggregatorTransportProtocol', code: 'INVALID_ENUM', message: /"sctp" is not one of "TLS", "TCP", "UDP"/ },
        { key: 'flowAggregatorAddress', code: 'HOST_INVALID', message: /"not a host" is not a valid DNS name or IP address/ },
        { key: 'recordContents.podLabels', code: 'TYPE_MISMATCH', message: /expected true or false, got "yes please"/ },
        { key: 'clusterID', code: 'TYPE_MISMATCH', message: /expected a string, got a list/ },
      ],
    );
  });

  it('refuses bad apiServer values', () => {
    expectProblems(
      () => parse('apiServer:\n  apiPort: 65536\n  tlsCipherSuites: "TLS_FOO, TLS_RSA_WITH_AES_128_CBC_SHA"\n  tlsMinVersion: TLS12\n'),
      [
        { key: 'apiServer.apiPort', code: 'VALUE_TOO_LARGE', message: /65536 is above the maximum of 65535/ },
        { key: 'apiServer.tlsCipherSuites', code: 'CIPHER_SUITE_INVALID', message: /unknown cipher suite "TLS_FOO"/ },
        { key: 'apiServer.tlsMinVersion', code: 'INVALID_ENUM', message: /"TLS12" is not one of "VersionTLS10"/ },
      ],
    );
    expectProblem(() => parse('apiServer:\n  tlsCipherSuites: TLS_AES_128_GCM_SHA256\n'), {
      key: 'apiServer.tlsCipherSuites',
      code: 'CIPHER_SUITE_INVALID',
      message: /TLS 1\.3 cipher suite/,
    });
    expectProblem(() => parse('apiServer:\n  apiPort: "10348"\n'), {
      key: 'apiServer.apiPort',
      code: 'TYPE_MISMATCH',
      message: /expected an integer, got "10348"/,
    });
  });

  it('requires a collector address when flowCollector is enabled', () => {
    expectProblem(() => parse('flowCollector:\n  enable: true\n'), {
      key: 'flowCollector.address',
      code: 'REQUIRED',
      message: /required when flowCollector\.enable is true/,
    });
  });

  it('refuses bad flowCollector values', () => {
    expectProblems(
      () =>
        parse(
          'flowCollector:\n  enable: true\n  address: "10.0.0.1:4739:sctp"\n  observationDomainID: 4294967296\n  recordFormat: CSV\n' +
            '  templateRefreshTimeout: -1s\n  maxIPFIXMsgSize: 100\n',
        ),
      [
        { key: 'flowCollector.address', code: 'ADDRESS_INVALID', message: /unsupported protocol "sctp"/ },
        { key: 'flowCollector.observationDomainID', code: 'VALUE_TOO_LARGE', message: /4294967296 is above the maximum of 4294967295/ },
        { key: 'flowCollector.recordFormat', code: 'INVALID_ENUM', message: /"CSV" is not one of "IPFIX", "JSON"/ },
        { key: 'flowCollector.templateRefreshTimeout', code: 'DURATION_NEGATIVE', message: /-1s cannot be negative/ },
        { key: 'flowCollector.maxIPFIXMsgSize', code: 'VALUE_OUT_OF_RANGE', message: /100 is outside 512\.\.65535/ },
      ],
    );
    const size = (v: number) => () => parse(`flowCollector:\n  enable: true\n  address: 1.1.1.1\n  maxIPFIXMsgSize: ${v}\n`);
    expectProblem(size(-1), { key: 'flowCollector.maxIPFIXMsgSize', code: 'VALUE_TOO_SMALL', message: /cannot be negative/ });
    expectProblem(size(65536), { key: 'flowCollector.maxIPFIXMsgSize', code: 'VALUE_OUT_OF_RANGE' });
    assert.equal(parse(`flowCollector:\n  maxIPFIXMsgSize: 512\n`).config.flowCollector.maxIPFIXMsgSize, 512);
    assert.equal(parse(`flowCollector:\n  maxIPFIXMsgSize: 65535\n`).config.flowCollector.maxIPFIXMsgSize, 65535);
    expectProblem(() => parse('flowCollector:\n  enable: true\n  address: "ns/svc:4739"\n'), {
      key: 'flowCollector.address',
      code: 'ADDRESS_INVALID',
      message: /Service references are not supported/,
    });
  });

  it('refuses contradictory flowCollector TLS settings', () => {
    const fc = 'flowCollector:\n  enable: true\n';
    expectProblem(() => parse(`${fc}  address: "1.2.3.4:4739:udp"\n  tls:\n    enable: true\n`), {
      key: 'flowCollector.tls.enable',
      code: 'CONFLICT',
      message: /TLS cannot be used with the udp protocol/,
    });
    expectProblems(
      () =>
        parse(
          `${fc}  address: "1.2.3.4:4739:tls"\n  tls:\n    keyFile: /k\n    caFile: /ca\n    caSecretName: ca\n    minVersion: VersionTLS11\n`,
        ),
      [
        { key: 'flowCollector.tls.minVersion', code: 'INVALID_ENUM', message: /"VersionTLS11" is not one of "VersionTLS12", "VersionTLS13"/ },
        { key: 'flowCollector.tls.certFile', code: 'REQUIRED', message: /certFile and keyFile must be given together/ },
        { key: 'flowCollector.tls.caFile', code: 'CONFLICT', message: /either caFile or caSecretName/ },
      ],
    );
    expectProblem(
      () => parse(`${fc}  address: "1.2.3.4:4739:tls"\n  tls:\n    certFile: /c\n    keyFile: /k\n    clientSecretName: s\n`),
      { key: 'flowCollector.tls.certFile', code: 'CONFLICT', message: /either certFile\/keyFile or clientSecretName/ },
    );
    const { warnings } = parse(`${fc}  address: "1.2.3.4:4739:tcp"\n  tls:\n    caFile: /ca\n`);
    assert.deepEqual(warningKeys(warnings), ['IGNORED flowCollector.tls']);
  });

  it('refuses bad ClickHouse values', () => {
    const url = (u: string) => () => parse(`clickHouse:\n  enable: true\n  databaseURL: "${u}"\n`);
    const cases: Array<[string, RegExp]> = [
      ['postgres://db:5432', /protocol "postgres" is not supported/],
      ['tcp://db:9000/default', /without path or query string/],
      ['http://db:8123/?database=x', /without path or query string/],
      ['tcp://user:pw@db:9000', /user info must not be set/],
      ['tcp://db:90000', /port 90000 is out of range/],
      ['tcp://:9000', /missing host/],
      ['db:9000', /expected <protocol>:\/\/<host>:<port>/],
      ['tcp://[db]:9000', /"db" is not a valid IPv6 address/],
    ];
    for (const [u, message] of cases) {
      expectProblem(url(u), { key: 'clickHouse.databaseURL', code: 'DATABASE_URL_INVALID', message });
    }
    assert.equal(parse('clickHouse:\n  databaseURL: "tls://ch.example:9440"\n').config.clickHouse.endpoint.secure, true);
    assert.equal(parse('clickHouse:\n  databaseURL: "http://ch.example"\n').config.clickHouse.endpoint.port, 8123);
    expectProblems(() => parse('clickHouse:\n  enable: true\n  commitInterval: 500ms\n  compress: 1\n  tls: yes\n'), [
      { key: 'clickHouse.commitInterval', code: 'DURATION_TOO_SMALL', message: /^clickHouse\.commitInterval: "500ms" is below the minimum of 1s/ },
      { key: 'clickHouse.compress', code: 'TYPE_MISMATCH', message: /expected true or false, got 1/ },
      { key: 'clickHouse.tls', code: 'TYPE_MISMATCH', message: /expected a mapping, got true/ },
    ]);
  });

  it('refuses bad S3 uploader values', () => {
    expectProblems(
      () => parse('s3Uploader:\n  enable: true\n  recordFormat: JSON\n  maxRecordsPerFile: -5\n  uploadInterval: 100ms\n'),
      [
        { key: 's3Uploader.bucketName', code: 'REQUIRED', message: /required when s3Uploader\.enable is true/ },
        { key: 's3Uploader.recordFormat', code: 'INVALID_ENUM', message: /"JSON" is not one of "CSV"/ },
        { key: 's3Uploader.maxRecordsPerFile', code: 'VALUE_TOO_SMALL', message: /-5 is below the minimum of 0/ },
        { key: 's3Uploader.uploadInterval', code: 'DURATION_TOO_SMALL', message: /"100ms" is below the minimum of 1s/ },
      ],
    );
  });

  it('refuses bad flow logger values', () => {
    expectProblems(
      () =>
        parse(
          'flowLogger:\n  enable: true\n  maxSize: -1\n  maxAge: 1.5\n  recordFormat: csv\n  filters:\n' +
            '  - ingressNetworkPolicyRuleActions: [Drop, Deny]\n',
        ),
      [
        { key: 'flowLogger.maxSize', code: 'VALUE_TOO_SMALL', message: /-1 is below the minimum of 0 MB/ },
        { key: 'flowLogger.maxAge', code: 'TYPE_MISMATCH', message: /expected an integer, got 1\.5/ },
        { key: 'flowLogger.recordFormat', code: 'INVALID_ENUM', message: /did you mean "CSV"/ },
        {
          key: 'flowLogger.filters[0].ingressNetworkPolicyRuleActions[1]',
          code: 'INVALID_ENUM',
          message: /"Deny" is not one of "None", "Allow", "Drop", "Reject"/,
        },
      ],
    );
    expectProblem(() => parse('flowLogger:\n  enable: true\n  filters: {ingressNetworkPolicyRuleActions: [Drop]}\n'), {
      key: 'flowLogger.filters',
      code: 'TYPE_MISMATCH',
      message: /expected a list, got a mapping/,
    });
  });

  it('refuses bad embedded store and IPFIX collector values', () => {
    expectProblems(() => parse('embeddedStore:\n  retention: 30s\n  enable: "auto"\nipfixCollector:\n  address: localhost\n  port: 0\n'), [
      { key: 'embeddedStore.retention', code: 'DURATION_TOO_SMALL', message: /"30s" is below the minimum of 1m/ },
      { key: 'embeddedStore.enable', code: 'TYPE_MISMATCH' },
      { key: 'ipfixCollector.address', code: 'ADDRESS_INVALID', message: /expected an IPv4 or IPv6 address/ },
      { key: 'ipfixCollector.port', code: 'VALUE_TOO_SMALL', message: /0 is below the minimum of 1/ },
    ]);
  });

  it('allows only the flowCollector sink in Proxy mode', () => {
    expectProblem(
      () =>
        parse(
          'mode: Proxy\nflowCollector:\n  enable: true\n  address: 1.2.3.4\nclickHouse:\n  enable: true\nflowLogger:\n  enable: true\n',
        ),
      {
        key: 'mode',
        code: 'CONFLICT',
        message: /only flowCollector is supported in Proxy mode, but clickHouse, flowLogger are enabled/,
      },
    );
    expectProblem(() => parse('mode: Proxy\nembeddedStore:\n  enable: true\n'), {
      key: 'mode',
      code: 'CONFLICT',
      message: /but embeddedStore is enabled/,
    });
  });

  it('collects all problems, from every section, into one error', () => {
    const err = expectProblems(
      () =>
        parse(
          'mode: Proxy\nactiveFlowRecordTimeout: x\nclickHouse:\n  enable: true\n  commitInterval: 1ms\ns3Uploader:\n  enable: true\n',
        ),
      [
        { key: 'mode', code: 'CONFLICT', line: 1 },
        { key: 'activeFlowRecordTimeout', code: 'DURATION_INVALID', line: 2 },
        { key: 'clickHouse.commitInterval', code: 'DURATION_TOO_SMALL', line: 5 },
        { key: 's3Uploader.bucketName', code: 'REQUIRED' },
      ],
    );
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.match(err.message, /^flow-aggregator\.conf: invalid configuration \(4 problems\):\n {2}- mode: /);
  });
});

describe('parseAggregatorConfig: warnings', () => {
  it('turns problems of disabled sections into warnings (upstream validates only enabled sections)', () => {
    const { config, warnings } = parse(
      'flowCollector:\n  address: "bad address"\n  recordFormat: xml\nclickHouse:\n  commitInterval: 10ms\n  databaseURL: "ftp://x"\n' +
        's3Uploader:\n  uploadInterval: 0s\nflowLogger:\n  filters:\n  - ingressNetworkPolicyRuleActions: [Maybe]\n',
    );
    assert.deepEqual(warningKeys(warnings), [
      'ADDRESS_INVALID flowCollector.address',
      'DATABASE_URL_INVALID clickHouse.databaseURL',
      'DURATION_TOO_SMALL clickHouse.commitInterval',
      'DURATION_TOO_SMALL s3Uploader.uploadInterval',
      'INVALID_ENUM flowCollector.recordFormat',
      'INVALID_ENUM flowLogger.filters[0].ingressNetworkPolicyRuleActions[0]',
    ]);
    for (const w of warnings) assert.match(w.message, /ignored because this section is disabled/);
    assert.equal(config.clickHouse.commitInterval, 8_000);
    assert.equal(config.clickHouse.databaseURL, 'tcp://clickhouse-clickhouse.flow-visibility.svc:9000');
    assert.equal(config.flowCollector.address, '');
    assert.deepEqual(config.flowLogger.filters, []);
  });

  it('names unknown keys, and says which belong to later Antrea versions', () => {
    const { warnings } = parse(
      'recordBufferSize: 8192\nflowCollector:\n  includeK8sNames: true\n  adress: 1.2.3.4\nflowLogger:\n  filters:\n  - action: Drop\n',
    );
    assert.deepEqual(warningKeys(warnings), [
      'UNKNOWN_KEY flowCollector.adress',
      'UNKNOWN_KEY flowCollector.includeK8sNames',
      'UNKNOWN_KEY flowLogger.filters[0].action',
      'UNKNOWN_KEY recordBufferSize',
    ]);
    assert.match(warnings[0]?.message ?? '', /^recordBufferSize: unknown key \(ignored: an Antrea v2\.7\+ key, not supported by this implementation\) \(line 1, column 1\)$/);
    assert.match(warnings[2]?.message ?? '', /^flowCollector\.adress: unknown key \(ignored\)/);
  });

  it('warns when no sink is enabled', () => {
    const { warnings } = parse('embeddedStore:\n  enable: false\n');
    assert.deepEqual(warningKeys(warnings), ['NO_SINK ']);
  });

  it('warns about duplicate keys', () => {
    const { config, warnings } = parse('mode: Proxy\nmode: Aggregate\n');
    assert.equal(config.mode, 'Aggregate');
    assert.deepEqual(warningKeys(warnings), ['DUPLICATE_KEY mode']);
    assert.equal(warnings[0]?.line, 2);
  });
});
