/** Unit tests of the ClickHouse sink's pure parts (the server itself: test/e2e/clickhouse). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError, ConfigError } from '../../../errors.ts';
import { everyColumnRow } from '../../query/testing/flow-fixtures.ts';
import { emptyFlowRow, FLOW_COLUMNS, FLOW_ROW_COLUMNS, type FlowRow } from '../flow-row.ts';
import { classifyFailure, describeFailure, resolveEndpoint, serverError } from './connection.ts';
import { flowsTableDdl, retentionDeletes, serverFeatures, THEIA_VIEWS, viewDdls } from './schema.ts';
import { chIdentifier, chString, chUInt } from './sql-literal.ts';
import { compileTsvSerializer, tsvDateTime, tsvString } from './tsv.ts';

describe('ClickHouse literals', () => {
  test('strings are quoted with every special character escaped', () => {
    assert.equal(chString('plain'), "'plain'");
    assert.equal(chString("it's"), "'it\\'s'");
    assert.equal(chString('a\\b'), "'a\\\\b'");
    assert.equal(chString('t\tn\nr\r0\0'), "'t\\tn\\nr\\r0\\0'");
    assert.equal(chString('\x01\x7f'), "'\\x01\\x7f'");
    assert.equal(chString('é✓'), "'é✓'");
    assert.equal(chString("' OR 1=1 --"), "'\\' OR 1=1 --'");
    assert.throws(() => chString(5 as unknown as string), ApiError);
  });

  test('integers and identifiers are checked', () => {
    assert.equal(chUInt(0), '0');
    assert.equal(chUInt(0xffff_ffff_ffff_ffffn), '18446744073709551615');
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) assert.throws(() => chUInt(bad), ApiError);
    assert.throws(() => chUInt(-1n), ApiError);
    assert.equal(chIdentifier('flow_db1'), 'flow_db1');
    for (const bad of ['', '1db', 'a-b', 'db; DROP', '`x`']) assert.throws(() => chIdentifier(bad), ApiError);
  });
});

describe('TabSeparated serialisation', () => {
  test('writes every column in order, counters exact, strings escaped', () => {
    const row = everyColumnRow(3);
    const ser = compileTsvSerializer(FLOW_ROW_COLUMNS.map((c) => c.name));
    const line = ser([row], 0, 1).toString('utf8');
    assert.ok(line.endsWith('\n'));
    const fields = line.slice(0, -1).split('\t');
    assert.equal(fields.length, FLOW_ROW_COLUMNS.length);
    FLOW_ROW_COLUMNS.forEach((c, i) => {
      const v = row[c.name];
      const expected = c.type === 'String' ? tsvString(v) : c.type === 'DateTime' ? tsvDateTime(v) : String(v);
      assert.equal(fields[i], expected, c.name);
    });
    assert.equal(fields[FLOW_ROW_COLUMNS.findIndex((c) => c.name === 'octetTotalCount')], '18446744073709551615');
    assert.equal(tsvString('tab\there\nnl\\bs\r\0'), 'tab\\there\\nnl\\\\bs\\r\\0');
  });

  test('DateTime is always ten digits; out-of-range numbers wrap instead of failing the batch', () => {
    assert.equal(tsvDateTime(0), '0000000000');
    assert.equal(tsvDateTime(123), '0000000123');
    assert.equal(tsvDateTime(1_800_000_000), '1800000000');
    assert.equal(tsvDateTime(undefined), '0000000000');
    const row: FlowRow = { ...emptyFlowRow(), flowEndReason: 300, sourceTransportPort: -1, octetDeltaCount: -1n, packetDeltaCount: 2n ** 64n + 5n };
    const ser = compileTsvSerializer(['flowEndReason', 'sourceTransportPort', 'octetDeltaCount', 'packetDeltaCount', 'sourcePodName']);
    assert.equal(ser([row], 0, 1).toString(), `44\t65535\t18446744073709551615\t5\t\n`);
  });

  test('serialises a column subset and a range of rows', () => {
    const rows = [1, 2, 3].map((n) => ({ ...emptyFlowRow(), sourceTransportPort: n, sourcePodName: `p${n}` }));
    const ser = compileTsvSerializer(['sourcePodName', 'sourceTransportPort']);
    assert.equal(ser(rows, 1, 3).toString(), 'p2\t2\np3\t3\n');
    assert.throws(() => compileTsvSerializer(['timeInserted']));
  });
});

describe('ClickHouse schema', () => {
  test('features by server version', () => {
    assert.deepEqual(serverFeatures('18.16.1'), { version: '18.16.1', major: 18, minor: 16, tableTtl: false });
    assert.equal(serverFeatures('19.5.3').tableTtl, false);
    assert.equal(serverFeatures('19.6.1.1').tableTtl, true);
    assert.equal(serverFeatures('24.8.4.13').tableTtl, true);
    assert.equal(serverFeatures('garbage').tableTtl, false);
  });

  test('the flows table has every column, Theia ordering, TTL only where supported', () => {
    const old = flowsTableDdl('fv', serverFeatures('18.16.1'), { ttlSeconds: 43200 });
    const modern = flowsTableDdl('fv', serverFeatures('23.8.1'), { ttlSeconds: 43200 });
    for (const c of FLOW_COLUMNS) assert.match(old, new RegExp(`\\n  ${c.name} ${c.type}[ ,\\n]`));
    assert.match(old, /timeInserted DateTime DEFAULT now\(\)/);
    assert.match(old, /trusted UInt8 DEFAULT 0/);
    assert.match(old, /ENGINE = MergeTree\nORDER BY \(timeInserted, flowEndSeconds\)$/);
    assert.match(modern, /TTL timeInserted \+ INTERVAL 43200 SECOND\nSETTINGS merge_with_ttl_timeout = 14400$/);
    assert.doesNotMatch(flowsTableDdl('fv', serverFeatures('23.8.1'), { ttlSeconds: 0 }), /TTL/);
    assert.throws(() => flowsTableDdl('bad-name', serverFeatures('18.16.1'), { ttlSeconds: 0 }), ApiError);
  });

  test('views: SummingMergeTree tables and materialized views over flows', () => {
    const ddls = viewDdls('fv', serverFeatures('18.16.1'), { ttlSeconds: 3600 });
    assert.equal(ddls.length, THEIA_VIEWS.length * 2);
    const names = new Set(FLOW_COLUMNS.map((c) => c.name as string));
    for (const v of THEIA_VIEWS) for (const c of [...v.keys, ...v.sums]) assert.ok(names.has(c), c);
    assert.match(ddls[0] as string, /^CREATE TABLE IF NOT EXISTS fv\.pod_view_table \(/);
    assert.match(ddls[0] as string, /ENGINE = SummingMergeTree\nORDER BY \(timeInserted, flowEndSeconds/);
    assert.match(ddls[1] as string, /^CREATE MATERIALIZED VIEW IF NOT EXISTS fv\.flows_pod_view TO fv\.pod_view_table\nAS SELECT /);
    assert.match(ddls[1] as string, /sum\(octetDeltaCount\) AS octetDeltaCount/);
    assert.deepEqual(retentionDeletes('fv', 3600), [
      'ALTER TABLE fv.flows DELETE WHERE timeInserted < now() - 3600',
      'ALTER TABLE fv.pod_view_table DELETE WHERE timeInserted < now() - 3600',
      'ALTER TABLE fv.node_view_table DELETE WHERE timeInserted < now() - 3600',
      'ALTER TABLE fv.policy_view_table DELETE WHERE timeInserted < now() - 3600',
    ]);
  });
});

describe('ClickHouse connection', () => {
  test('http and https URLs are used as given, with default ports', () => {
    assert.equal(resolveEndpoint('http://ch.svc:8123').url, 'http://ch.svc:8123');
    assert.equal(resolveEndpoint('http://ch.svc').url, 'http://ch.svc:8123');
    assert.equal(resolveEndpoint('https://[fd00::1]').url, 'https://[fd00::1]:8443');
  });

  test('native-protocol URLs fail at start-up, naming the URL to use', () => {
    const cases: [string, RegExp][] = [
      ['tcp://clickhouse-clickhouse.flow-visibility.svc:9000', /use http:\/\/clickhouse-clickhouse\.flow-visibility\.svc:8123$/],
      ['tls://ch:9440', /use https:\/\/ch:8443$/],
      ['tcp://ch:19000', /use http:\/\/ch:19000 \(and the port of ClickHouse's http_port\)/],
    ];
    for (const [url, message] of cases) {
      assert.throws(
        () => resolveEndpoint(url),
        (err: unknown) => err instanceof ConfigError && err.code === 'CLICKHOUSE_NATIVE_PROTOCOL' && message.test(err.message),
        url,
      );
    }
    assert.throws(() => resolveEndpoint('http://user:pw@ch:8123'), (err: unknown) => err instanceof ConfigError && /CH_USERNAME/.test(err.message));
  });

  test('server errors of old and new servers are recognised and classified', () => {
    const old = new Error('Code: 193, e.displayText() = DB::Exception: Wrong password for user flowvis, e.what() = DB::Exception\n');
    assert.deepEqual(serverError(old), { code: '193', message: 'Wrong password for user flowvis' });
    assert.equal(classifyFailure(old), 'auth');
    const modern = new Error('Code: 516. DB::Exception: flowvis: Authentication failed: password is incorrect. (AUTHENTICATION_FAILED)');
    assert.equal(serverError(modern)?.code, '516');
    assert.equal(classifyFailure(modern), 'auth');
    assert.equal(classifyFailure(new Error('Code: 41, e.displayText() = DB::Exception: Cannot parse datetime, e.what() = DB::Exception')), 'data');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' });
    assert.equal(classifyFailure(refused), 'transient');
    assert.equal(describeFailure(refused), 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:8123');
    const long = new Error(`Code: 27, e.displayText() = DB::Exception: ${'x'.repeat(1000)}, e.what() = DB::Exception`);
    assert.ok(describeFailure(long).length <= 300);
  });
});
