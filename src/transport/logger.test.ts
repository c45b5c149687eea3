import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitedLog } from './logger.ts';

test('RateLimitedLog: one line per interval, counting occurrences or the amounts given', () => {
  let now = 1_000;
  const log = new RateLimitedLog(10_000, () => now);
  const lines: number[] = [];
  log.hit((n) => lines.push(n));
  log.hit((n) => lines.push(n));
  now += 10_000;
  log.hit((n) => lines.push(n));
  assert.deepEqual(lines, [1, 2], 'the first at once, then the two since');
  const drops = new RateLimitedLog(10_000, () => now);
  drops.hit((n) => lines.push(n), 5);
  drops.hit((n) => lines.push(n), 7);
  now += 10_000;
  drops.hit((n) => lines.push(n), 1);
  assert.deepEqual(lines.slice(2), [5, 8], 'amounts are summed');
});
