import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PodStore } from './pod-store.ts';
import type { PodInfo } from './types.ts';

function makePod(name: string, uid: string, ips: string[], namespace = 'default'): PodInfo {
  return { uid, name, namespace, nodeName: 'n1', ips, labels: {}, containerPorts: [] };
}

/** A store whose clock the test sets (seconds). */
function storeAt(start: number) {
  const clock = { now: start };
  const store = new PodStore({ clock: () => clock.now * 1000 });
  return { store, clock };
}

const running = (creationTimestamp: number) => ({ pending: false, creationTimestamp });
const pending = { pending: true, creationTimestamp: 1 };

describe('PodStore', () => {
  test('a single Pod for an IP is returned whatever the time (clock skew between Nodes)', () => {
    const { store } = storeAt(1000);
    store.upsert(makePod('a', 'u-a', ['10.0.0.1']), running(900));
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 10)?.name, 'a');
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 99999)?.name, 'a');
    assert.equal(store.getPodByIPAndTime('10.0.0.2', 950), undefined);
  });

  test('IP reuse: the Pod whose [creation, deletion) window holds the time wins', () => {
    const { store, clock } = storeAt(100);
    store.upsert(makePod('old', 'u-old', ['10.0.0.1']), running(100));
    clock.now = 200;
    store.delete('u-old');
    clock.now = 210;
    // A Pending Pod's window starts when it is first seen, not at its creationTimestamp.
    store.upsert(makePod('new', 'u-new', ['10.0.0.1']), pending);
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 150)?.name, 'old');
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 100)?.name, 'old', 'creation time is inside the window');
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 200), undefined, 'deletion time is outside the window');
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 205), undefined, 'no Pod had the IP then');
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 210)?.name, 'new');
    assert.equal(store.getPodByIPAndTime('10.0.0.1', 5000)?.name, 'new');
    assert.equal(store.getPodByIP('10.0.0.1')?.name, 'new', 'without a time the live Pod wins');
    assert.deepEqual(store.getPodTimes('u-old'), { createdAt: 100, deletedAt: 200 });
    assert.equal(store.retainedDeletedCount, 1);
  });

  test('deleted Pods are kept for 5 minutes, then forgotten', () => {
    const { store, clock } = storeAt(100);
    store.upsert(makePod('gone', 'u-gone', ['10.0.0.5']), running(50));
    clock.now = 200;
    store.delete('u-gone');
    assert.equal(store.getPod('default', 'gone'), undefined, 'no longer live');
    clock.now = 499;
    assert.equal(store.getPodByIPAndTime('10.0.0.5', 150)?.name, 'gone');
    assert.equal(store.getPodByIP('10.0.0.5')?.name, 'gone', 'a retained deleted Pod still resolves');
    clock.now = 500;
    assert.equal(store.getPodByIPAndTime('10.0.0.5', 150), undefined);
    assert.equal(store.retainedDeletedCount, 0);
    assert.equal(store.getPodTimes('u-gone'), undefined);
  });

  test('a recreated Pod (same name, new UID) ends the old Pod window', () => {
    const { store, clock } = storeAt(100);
    store.upsert(makePod('web', 'u1', ['10.0.0.7']), running(100));
    clock.now = 300;
    store.upsert(makePod('web', 'u2', ['10.0.0.8']), pending);
    assert.equal(store.getPod('default', 'web')?.uid, 'u2');
    assert.deepEqual(store.getPodTimes('u1'), { createdAt: 100, deletedAt: 300 });
    assert.equal(store.liveCount, 1);
  });

  test('an IP assigned or changed by an update is re-indexed; the window start is kept', () => {
    const { store, clock } = storeAt(100);
    store.upsert(makePod('p', 'u', []), pending);
    clock.now = 105;
    assert.equal(store.upsert(makePod('p', 'u', ['10.0.0.9']), running(90)), 'update');
    assert.equal(store.getPodByIP('10.0.0.9')?.name, 'p');
    assert.equal(store.getPodTimes('u')?.createdAt, 100);
    store.upsert(makePod('p', 'u', ['10.0.0.10']), running(90));
    assert.equal(store.getPodByIP('10.0.0.9'), undefined);
    assert.equal(store.getPodByIP('10.0.0.10')?.name, 'p');
  });

  test('two live Pods with one IP: the newest whose window holds the time', () => {
    const { store } = storeAt(1000);
    store.upsert(makePod('first', 'u1', ['10.0.0.3']), running(100));
    store.upsert(makePod('second', 'u2', ['10.0.0.3']), running(500));
    assert.equal(store.getPodByIPAndTime('10.0.0.3', 200)?.name, 'first');
    assert.equal(store.getPodByIPAndTime('10.0.0.3', 600)?.name, 'second');
    assert.equal(store.getPodByIPAndTime('10.0.0.3', 50), undefined);
    assert.equal(store.getPodByIP('10.0.0.3')?.name, 'second');
  });

  test('dual-stack Pods are found by either address; a second delete is a no-op', () => {
    const { store } = storeAt(10);
    store.upsert(makePod('ds', 'u', ['10.0.0.4', 'fd00::4']), running(5));
    assert.equal(store.getPodByIPAndTime('fd00::4', 6)?.name, 'ds');
    assert.equal(store.delete('u'), true);
    assert.equal(store.delete('u'), false);
    assert.equal(store.delete('nope'), false);
  });

  test('retainOnly marks missing Pods deleted', () => {
    const { store } = storeAt(10);
    store.upsert(makePod('a', 'ua', ['10.0.0.1']), running(5));
    store.upsert(makePod('b', 'ub', ['10.0.0.2']), running(5));
    assert.deepEqual(store.retainOnly(new Set(['ua'])).map((p) => p.name), ['b']);
    assert.deepEqual(store.list().map((p) => p.name), ['a']);
  });
});
