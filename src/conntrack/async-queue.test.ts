import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AsyncQueue } from './async-queue.ts';

describe('AsyncQueue', () => {
  it('delivers pushed items in order to a waiting and a late consumer', async () => {
    const q = new AsyncQueue<number>(10);
    const first = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    assert.deepEqual(await first, { value: 1, done: false });
    q.end();
    const rest: number[] = [];
    for await (const v of q) rest.push(v);
    assert.deepEqual(rest, [2, 3]);
  });

  it('drops the oldest items beyond capacity and counts them', async () => {
    const q = new AsyncQueue<number>(2);
    for (let i = 0; i < 5; i++) q.push(i);
    q.end();
    const got: number[] = [];
    for await (const v of q) got.push(v);
    assert.deepEqual(got, [3, 4]);
    assert.equal(q.dropped, 3);
  });

  it('calls onReturn when the consumer breaks out', async () => {
    const q = new AsyncQueue<number>(2);
    let closed = 0;
    q.onReturn = () => closed++;
    q.push(1);
    for await (const _v of q) break;
    assert.equal(closed, 1);
    assert.deepEqual(await q.next(), { value: undefined, done: true });
  });
});
