/**
 * Fuzzing of both configuration parsers with mutated real files and generated documents:
 * whatever the input, the only thing that may come out besides a valid configuration is a
 * ConfigError, and a returned configuration always respects the documented bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError } from '../errors.ts';
import { parseAgentConfig } from './agent-config.ts';
import { parseAggregatorConfig } from './aggregator-config.ts';
import { configProblems } from './problems.ts';
import { mulberry32 } from '../testing/random.ts';

const SEED = 0x5eed_c0f1;
const MUTATED_DOCUMENTS = 3_000;
const GENERATED_DOCUMENTS = 2_000;

const AGENT_SEED = `featureGates:
  FlowExporter: true
  AntreaProxy: true
ovsBridge: "br-int"
flowCollectorAddr: "10.0.0.1:4739:tcp"
flowPollInterval: 3s
flowExporter:
  enable: true
  flowCollectorAddr: "flow-aggregator/flow-aggregator:4739:tls"
  flowPollInterval: "5s"
  activeFlowExportTimeout: "5s"
  idleFlowExportTimeout: "15s"
  conntrackZone: [65520, 65510]
  nflog:
    enable: true
    group: 5
    prefixFormat: "fv:{direction}:{action}:{namespace}/{name}:{rule}"
  tls:
    caFile: /etc/ca.crt
    certFile: /etc/tls.crt
    keyFile: /etc/tls.key
    serverName: flow-aggregator.flow-aggregator.svc
    insecureSkipVerify: false
  maxConnections: 100000
antreaProxy:
  enable: true
`;

const AGGREGATOR_SEED = `mode: Aggregate
activeFlowRecordTimeout: 60s
inactiveFlowRecordTimeout: 90s
aggregatorTransportProtocol: "tls"
flowAggregatorAddress: "flow-aggregator.example.com"
recordContents:
  podLabels: true
apiServer:
  apiPort: 10348
  tlsCipherSuites: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
  tlsMinVersion: "VersionTLS12"
  tokenFile: /token
  certDir: /certs
clusterID: "c1"
flowCollector:
  enable: true
  address: "[fd00::1]:4739:udp"
  observationDomainID: 7
  recordFormat: "IPFIX"
  templateRefreshTimeout: "600s"
  maxIPFIXMsgSize: 1400
  tls:
    enable: false
    caFile: /ca
clickHouse:
  enable: true
  database: "default"
  databaseURL: "tcp://clickhouse-clickhouse.flow-visibility.svc:9000"
  tls:
    insecureSkipVerify: false
    caCert: false
  debug: false
  compress: true
  commitInterval: "8s"
s3Uploader:
  enable: true
  bucketName: "b"
  region: "us-west-2"
  recordFormat: "CSV"
  maxRecordsPerFile: 1e+06
  uploadInterval: "60s"
flowLogger:
  enable: true
  path: "/tmp/antrea-flows.log"
  maxSize: 100
  maxBackups: 3
  maxAge: 0
  filters:
  - ingressNetworkPolicyRuleActions: [Drop, Reject]
  - egressNetworkPolicyRuleActions: ["Drop"]
  prettyPrint: true
embeddedStore:
  enable: true
  retention: 12h
ipfixCollector:
  address: 0.0.0.0
  port: 4739
`;

const SPECIAL_CHARS = [':', '-', '[', ']', '{', '}', '"', "'", '&', '*', '!', '|', '>', '#', '\t', ' ', '\n', '%', '@', '`', '?', ',', '\\', '\u0000', '\u00b5', '\ufeff', '\u2028', 'é', '9', '.'];

const TRICKY_VALUES = [
  '', '~', 'null', '-1', '0', '1', '65535', '65536', '4294967296', '1e309', '-1e309', '.inf', '.nan', '0x7fffffffffffffff',
  '99999999999999999999', '[1, 2]', '{a: 1}', '[]', '{}', 'yes', 'no', 'on', '"5s"', '-5s', '1.5h', '500ms', '0s', '1ns',
  '9223372036854775808ns', '"[::1]:0:tcp"', '"a/b"', '"[::1]"', 'fd00::1', '!!binary aGk=', '&a x', '*a', '!!set {a, b}',
  '!!omap [a: 1]', '!!str 5', '!!int "7"', '!!float 1', `"${'x'.repeat(300)}"`, '"\\u0000"', '2024-01-01', '1:30', "'null'",
  '__proto__', 'constructor', '"tcp://h:9000"', '"https://[::1]"', 'Proxy', 'Aggregate', 'TLS', 'udp', 'JSON', 'CSV',
  '"{name}{name}"', 'VersionTLS13', '"TLS_AES_128_GCM_SHA256"', '|\n  block', '>-\n  folded', '? complex',
];

const KEYS = [
  '__proto__', 'constructor', 'toString', '<<', 'enable', 'mode', 'flowExporter', 'featureGates', 'FlowExporter', 'address',
  'filters', 'tls', 'y', '010', 'flowPollInterval', 'clickHouse', 'embeddedStore', 'port', 'unknownKey',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function mutate(rand: () => number, text: string): string {
  let out = text;
  const rounds = 1 + Math.floor(rand() * 4);
  for (let r = 0; r < rounds; r++) {
    const lines = out.split('\n');
    const i = Math.floor(rand() * lines.length);
    const line = lines[i] ?? '';
    switch (Math.floor(rand() * 8)) {
      case 0: {
        const at = Math.floor(rand() * (out.length + 1));
        out = out.slice(0, at) + pick(rand, SPECIAL_CHARS) + out.slice(at + (rand() < 0.5 ? 1 : 0));
        break;
      }
      case 1: {
        const at = Math.floor(rand() * out.length);
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(rand() * 40));
        break;
      }
      case 2:
        lines.splice(i, 0, line);
        out = lines.join('\n');
        break;
      case 3: {
        const j = Math.floor(rand() * lines.length);
        [lines[i], lines[j]] = [lines[j] ?? '', line];
        out = lines.join('\n');
        break;
      }
      case 4:
        lines[i] = rand() < 0.5 ? ` ${line}` : line.replace(/^ {1,2}/, '');
        out = lines.join('\n');
        break;
      case 5:
      case 6: {
        const m = /^(\s*-?\s*[^:#]+:)(.*)$/.exec(line);
        if (m) lines[i] = `${m[1]} ${pick(rand, TRICKY_VALUES)}`;
        out = lines.join('\n');
        break;
      }
      default: {
        const m = /^(\s*)([^:#\s]+)(:.*)$/.exec(line);
        if (m) lines[i] = `${m[1]}${pick(rand, KEYS)}${m[3]}`;
        out = lines.join('\n');
      }
    }
  }
  return out;
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 3 || r < 0.45) {
    return pick(rand, [
      true, false, null, 0, -1, 1.5, 4739, 2 ** 40, '', '5s', '500ms', '1h', 'x', 'tls', 'Proxy', '10.0.0.1:4739:udp',
      '[::1]:1', 'ns/name', 'tcp://h:9000', 'Drop', 'VersionTLS12', Number.MAX_SAFE_INTEGER,
    ]);
  }
  if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(rand() * 5);
  for (let k = 0; k < n; k++) o[pick(rand, GENERATED_KEYS)] = randomValue(rand, depth + 1);
  return o;
}

const GENERATED_KEYS = [
  'mode', 'activeFlowRecordTimeout', 'inactiveFlowRecordTimeout', 'aggregatorTransportProtocol', 'flowAggregatorAddress',
  'recordContents', 'podLabels', 'apiServer', 'apiPort', 'tlsCipherSuites', 'tlsMinVersion', 'clusterID', 'flowCollector',
  'enable', 'address', 'observationDomainID', 'recordFormat', 'templateRefreshTimeout', 'maxIPFIXMsgSize', 'tls',
  'clickHouse', 'databaseURL', 'commitInterval', 's3Uploader', 'bucketName', 'uploadInterval', 'flowLogger', 'filters',
  'ingressNetworkPolicyRuleActions', 'embeddedStore', 'retention', 'ipfixCollector', 'port', 'featureGates',
  'FlowExporter', 'flowExporter', 'flowCollectorAddr', 'flowPollInterval', 'activeFlowExportTimeout', 'idleFlowExportTimeout',
  'conntrackZone', 'nflog', 'group', 'prefixFormat', 'certFile', 'keyFile', 'maxConnections', 'caFile', 'caSecretName',
];

function checkOutcome(run: () => { config: unknown; warnings: readonly unknown[] }, check: (config: never) => void, doc: string): 'ok' | 'error' {
  let result: { config: unknown; warnings: readonly unknown[] };
  try {
    result = run();
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      assert.fail(`non-ConfigError ${String(err)} for document:\n${doc}`);
    }
    assert.ok(typeof err.code === 'string' && err.message.length > 0);
    for (const p of configProblems(err)) assert.ok(p instanceof ConfigError && p.message.length > 0);
    return 'error';
  }
  for (const w of result.warnings) {
    assert.ok(typeof (w as { message: unknown }).message === 'string', doc);
  }
  check(result.config as never);
  return 'ok';
}

const inPort = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;

function checkAgent(config: ReturnType<typeof parseAgentConfig>['config']): void {
  const fe = config.flowExporter;
  assert.ok(Number.isFinite(fe.flowPollInterval) && fe.flowPollInterval >= 1_000);
  assert.ok(fe.activeFlowExportTimeout >= fe.flowPollInterval && fe.idleFlowExportTimeout >= fe.flowPollInterval);
  assert.ok(fe.staleConnectionTimeout >= 300_000);
  assert.ok(inPort(fe.flowCollector.port));
  assert.ok(['tls', 'tcp', 'udp'].includes(fe.flowCollector.proto));
  assert.ok(fe.maxConnections >= 1);
}

function checkAggregator(config: ReturnType<typeof parseAggregatorConfig>['config']): void {
  assert.ok(config.activeFlowRecordTimeout >= 1_000 && config.inactiveFlowRecordTimeout >= 1_000);
  assert.ok(config.clickHouse.commitInterval >= 1_000 && config.s3Uploader.uploadInterval >= 1_000);
  const size = config.flowCollector.maxIPFIXMsgSize;
  assert.ok(size === 0 || (size >= 512 && size <= 65535));
  assert.ok(inPort(config.apiServer.apiPort) && inPort(config.ipfixCollector.port) && inPort(config.clickHouse.endpoint.port));
  if (config.flowCollector.enable) assert.ok(config.flowCollector.collector !== undefined);
  if (config.mode === 'Proxy') assert.ok(!config.clickHouse.enable && !config.flowLogger.enable && !config.embeddedStore.enable);
}

describe('configuration fuzzing', () => {
  it(`only ConfigErrors come out of ${MUTATED_DOCUMENTS + GENERATED_DOCUMENTS} mutated and generated documents`, () => {
    const rand = mulberry32(SEED);
    const outcomes = { ok: 0, error: 0 };
    const docs: string[] = [];
    for (let i = 0; i < MUTATED_DOCUMENTS; i++) docs.push(mutate(rand, rand() < 0.5 ? AGENT_SEED : AGGREGATOR_SEED));
    for (let i = 0; i < GENERATED_DOCUMENTS; i++) {
      const value = rand() < 0.9 ? randomValue(rand, 0) : pick(rand, [[], 'text', 42, null]);
      docs.push(stringify(value, { version: '1.1' }));
    }
    for (const doc of docs) {
      outcomes[checkOutcome(() => parseAgentConfig(doc), checkAgent, doc)]++;
      outcomes[checkOutcome(() => parseAggregatorConfig(doc), checkAggregator, doc)]++;
    }
    // Both outcomes must be well represented, or the fuzzer is not exploring.
    assert.ok(outcomes.ok > 1_000 && outcomes.error > 1_000, JSON.stringify(outcomes));
  });
});
