import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiryQueue } from './expiry-queue.ts';
import { mulberry32 } from '../testing/random.ts';

test('pops in deadline order and only when expired', () => {
  const q = new ExpiryQueue(2);
  q.set(1, 50);
  q.set(2, 10);
  q.set(3, 30);
  assert.equal(q.popExpired(5), -1);
  assert.equal(q.popExpired(30), 2);
  assert.equal(q.popExpired(30), 3);
  assert.equal(q.popExpired(30), -1);
  assert.equal(q.peekDeadline(), 50);
  assert.equal(q.size, 1);
});

test('one entry per id: set moves it, remove takes it out', () => {
  const q = new ExpiryQueue(4);
  q.set(7, 100);
  q.set(7, 5);
  assert.equal(q.size, 1);
  assert.equal(q.deadlineOf(7), 5);
  assert.equal(q.remove(7), true);
  assert.equal(q.remove(7), false);
  assert.equal(q.has(7), false);
  assert.equal(q.popExpired(Infinity), -1);
});

test('matches a sorted model under random operations', () => {
  const rnd = mulberry32(42);
  const q = new ExpiryQueue(8);
  const model = new Map<number, number>();
  for (let step = 0; step < 20000; step++) {
    const id = Math.floor(rnd() * 500);
    const op = rnd();
    if (op < 0.5) {
      const d = Math.floor(rnd() * 10000);
      q.set(id, d);
      model.set(id, d);
    } else if (op < 0.7) {
      assert.equal(q.remove(id), model.delete(id));
    } else {
      const now = Math.floor(rnd() * 10000);
      const got = q.popExpired(now);
      const min = Math.min(...model.values(), Infinity);
      if (min > now) assert.equal(got, -1);
      else {
        assert.equal(model.get(got), min);
        model.delete(got);
      }
    }
    assert.equal(q.size, model.size);
  }
});
