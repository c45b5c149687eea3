import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../errors.ts';
import { bucketWidth, fillPoints } from './buckets.ts';
import { buildServiceMap, serviceOf, talkerEndpoint } from './result-shapes.ts';
import { flowFilterFromParams, validateFlowFilter, validateFlowsQuery } from './validate.ts';

const badQuery = (field: string) => (err: unknown) => err instanceof ApiError && err.code === 'BAD_QUERY' && err.context.field === field;

describe('query input', () => {
  test('filters from URL parameters', () => {
    const f = flowFilterFromParams(
      new URLSearchParams('namespace=default&protocol=tcp&flowType=inter-node,3&from=2027-01-15T08:00:00Z&to=1800000000&port=443&ip=fd00::1&text=web&ignored=1'),
    );
    assert.deepEqual(f, {
      namespace: 'default',
      protocol: 6,
      flowType: [2, 3],
      from: Math.floor(Date.parse('2027-01-15T08:00:00Z') / 1000),
      to: 1800000000,
      port: 443,
      ip: 'fd00::1',
      text: 'web',
    });
    assert.deepEqual(flowFilterFromParams({ protocol: '17', action: 'deny', pod: undefined }), { protocol: 17, action: 'deny' });
    assert.throws(() => flowFilterFromParams({ port: '80a' }), badQuery('port'));
    assert.throws(() => flowFilterFromParams({ from: 'yesterday' }), badQuery('from'));
    assert.throws(() => flowFilterFromParams({ flowType: 'sideways' }), badQuery('flowType'));
  });

  test('every field is checked', () => {
    assert.deepEqual(validateFlowFilter(undefined), {});
    assert.throws(() => validateFlowFilter({ namespace: '' }), badQuery('namespace'));
    assert.throws(() => validateFlowFilter({ pod: 'x'.repeat(513) }), badQuery('pod'));
    assert.throws(() => validateFlowFilter({ sourceIP: '10.0.0.300' }), badQuery('sourceIP'));
    assert.throws(() => validateFlowFilter({ protocol: 256 }), badQuery('protocol'));
    assert.throws(() => validateFlowFilter({ flowType: [] }), badQuery('flowType'));
    assert.throws(() => validateFlowFilter({ action: 'drop' as 'deny' }), badQuery('action'));
    assert.throws(() => validateFlowFilter({ from: 5, to: 4 }), badQuery('from'));
    assert.throws(() => validateFlowFilter({ extra: 1 } as object), badQuery('extra'));
    assert.deepEqual(validateFlowsQuery({}), { limit: 100, offset: 0, sort: 'flowEndSeconds', order: 'desc', filter: {} });
    assert.throws(() => validateFlowsQuery({ limit: 1001 }), badQuery('limit'));
    assert.throws(() => validateFlowsQuery({ order: 'up' as 'asc' }), badQuery('order'));
  });
});

describe('query results', () => {
  test('bucket widths are round and bounded', () => {
    assert.equal(bucketWidth(0, 3600, undefined), 30);
    assert.equal(bucketWidth(0, 12 * 3600, undefined), 300);
    assert.equal(bucketWidth(0, 100, undefined), 1);
    assert.equal(bucketWidth(0, 3600, 60), 60);
    assert.throws(() => bucketWidth(0, 86400 * 30, 1), badQuery('bucketSeconds'));
    assert.throws(() => bucketWidth(0, 60, 0), badQuery('bucketSeconds'));
    const points = fillPoints(new Map([[60, 1000n]]), 30, 150, 60);
    assert.deepEqual(points, [
      { time: 0, bytes: 0n, bitsPerSecond: 0 },
      { time: 60, bytes: 1000n, bitsPerSecond: 8000 / 60 },
      { time: 120, bytes: 0n, bitsPerSecond: 0 },
    ]);
  });

  test('service map nodes and edges', () => {
    assert.deepEqual(serviceOf('shop/cart:http'), { namespace: 'shop', name: 'cart' });
    assert.deepEqual(talkerEndpoint('pod', '', '93.184.216.34'), { kind: 'external', namespace: '', name: '93.184.216.34' });
    const g = { sourceNamespace: 'shop', sourceWorkload: 'web', sourceIP: '', destinationNamespace: 'shop', destinationWorkload: 'cart', destinationIP: '' };
    const map = buildServiceMap(
      [
        { ...g, destinationService: 'shop/cart:http', bytes: 10n, flows: 2, denied: 1 },
        { ...g, destinationService: 'shop/cart:grpc', bytes: 5n, flows: 1, denied: 0 },
        { ...g, destinationService: '', bytes: 7n, flows: 1, denied: 0 },
        { ...g, destinationService: '', destinationWorkload: '', destinationNamespace: '', destinationIP: '1.1.1.1', bytes: 1n, flows: 1, denied: 0 },
      ],
      2,
    );
    assert.deepEqual(map.edges, [
      { source: 'workload:shop/web', destination: 'service:shop/cart', bytes: 15n, flows: 3, allowedFlows: 2, deniedFlows: 1 },
      { source: 'workload:shop/web', destination: 'workload:shop/cart', bytes: 7n, flows: 1, allowedFlows: 1, deniedFlows: 0 },
    ]);
    assert.deepEqual(map.nodes.map((n) => n.id), ['service:shop/cart', 'workload:shop/cart', 'workload:shop/web']);
  });
});
