/** Unit tests of the expiry heap, the httpVals merge and the string interner. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentElementNames, type FieldValue } from '../../ipfix/index.ts';
import { ExpiryQueue } from './expiry-queue.ts';
import { flowHash, FlowStore } from './flow-store.ts';
import { A } from './layout.ts';
import { zeroValue } from './preprocess.ts';
import { mergeHttpVals } from './http-vals.ts';
import { StringInterner } from './interner.ts';
import { mulberry32 } from '../../testing/random.ts';

test('expiry queue: random pushes, updates and removals pop in deadline order', () => {
  const rnd = mulberry32(42);
  const q = new ExpiryQueue(4);
  const model = new Map<number, number>();
  for (let round = 0; round < 5000; round++) {
    const op = rnd();
    const slot = Math.floor(rnd() * 300);
    const d = Math.floor(rnd() * 10_000);
    if (op < 0.4) {
      if (!model.has(slot)) { q.push(slot, d); model.set(slot, d); }
    } else if (op < 0.6) {
      if (model.has(slot)) { q.update(slot, d); model.set(slot, d); }
    } else if (op < 0.7) {
      q.remove(slot);
      model.delete(slot);
    } else if (op < 0.85 && q.size > 0) {
      const min = Math.min(...model.values());
      assert.equal(q.peekDeadline(), min);
      const s = q.pop();
      assert.equal(model.get(s), min);
      model.delete(s);
    }
    assert.equal(q.size, model.size);
    assert.equal(q.has(slot), model.has(slot));
  }
  const order: number[] = [];
  while (q.size > 0) {
    const d = q.peekDeadline();
    order.push(d);
    assert.equal(model.get(q.pop()), d);
  }
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
  assert.equal(q.pop(), -1);
  assert.equal(q.peekDeadline(), Infinity);
});

test('httpVals merge as go-ipfix fillHttpVals (existing entries win, keys sorted as strings, Go escaping)', () => {
  assert.equal(mergeHttpVals('{"2":"b","10":"new"}', '{"10":"old","1":"a<"}'), '{"1":"a\\u003c","10":"old","2":"b"}');
  assert.equal(mergeHttpVals('{"1":"x"}', ''), '{"1":"x"}');
  assert.equal(mergeHttpVals('', '{"1":"x"}'), '{"1":"x"}');
  assert.equal(mergeHttpVals('', ''), '', 'deviation: upstream writes "{}"');
  assert.equal(mergeHttpVals('{"1":{"method":"GET"}}', '{"2":"y"}'), '{"1":{"method":"GET"}}', 'not a map of strings: incoming value');
  assert.equal(mergeHttpVals('{"x":"1"}', ''), '{"x":"1"}', 'non-integer key: incoming value');
  assert.equal(mergeHttpVals('{"1":"a"}{"2":"b"}', '{"3":"c"}'), '{"1":"a"}{"2":"b"}', 'invalid JSON: incoming value');
});

test('string interner shares instances and stays bounded', () => {
  const i = new StringInterner(4);
  const a = i.intern(['po', 'd-a'].join(''));
  assert.equal(i.intern('pod-a'), a);
  assert.equal(i.intern(''), '');
  for (let k = 0; k < 10; k++) i.intern(`p${k}`);
  assert.ok(i.size <= 4);
});

test('flow store index: random creates and releases (growth, rehash, backward-shift deletion) keep every flow findable', () => {
  const rnd = mulberry32(7);
  const store = new FlowStore(16);
  const zeros = agentElementNames(4).map(zeroValue);
  const live = new Map<string, { slot: number; key: [string, string, number, number, number] }>();
  const keyOf = (i: number): [string, string, number, number, number] =>
    [`10.0.${i % 7}.${i % 251}`, `10.1.${i % 5}.${i % 13}`, i % 3 === 0 ? 17 : 6, 1000 + (i % 97), 80 + (i % 11)];
  for (let round = 0; round < 40_000; round++) {
    // First a small set of flows (a small table: probe runs often wrap around its end), then many.
    const i = Math.floor(rnd() * (round < 20_000 ? 40 : 3000));
    const id = String(i);
    const key = keyOf(i);
    const hash = flowHash(...key);
    const found = store.find(hash, ...key);
    if (live.has(id)) {
      assert.equal(found, live.get(id)?.slot);
      if (rnd() < 0.6) {
        store.release(found);
        live.delete(id);
      }
    } else {
      assert.equal(found, -1);
      const v: FieldValue[] = [...zeros];
      [v[A.sourceAddress], v[A.destinationAddress], v[A.protocolIdentifier], v[A.sourceTransportPort], v[A.destinationTransportPort]] = key;
      live.set(id, { slot: store.create(hash, v, 4), key });
    }
    assert.equal(store.size, live.size);
  }
  for (const { slot, key } of live.values()) assert.equal(store.find(flowHash(...key), ...key), slot);
  let n = 0;
  store.forEachSlot(() => { n++; });
  assert.equal(n, live.size);
});
