import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../errors.ts';
import { formatDuration, formatNs, parseDuration, tryParseDuration } from './duration.ts';

function ns(text: string): bigint {
  const r = tryParseDuration(text);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.reason}`);
  return r.ns;
}

describe('parseDuration', () => {
  it('parses the forms used in Antrea configuration files to milliseconds', () => {
    const cases: Array<[string, number]> = [
      ['5s', 5_000],
      ['1m30s', 90_000],
      ['500ms', 500],
      ['1h', 3_600_000],
      ['2h45m', 9_900_000],
      ['1.5h', 5_400_000],
      ['300us', 0.3],
      ['300µs', 0.3],
      ['300μs', 0.3],
      ['250ns', 0.00025],
      ['600s', 600_000],
      ['0', 0],
      ['0s', 0],
      ['-5s', -5_000],
      ['+5s', 5_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it('matches Go time.ParseDuration to the nanosecond (Go test table)', () => {
    const cases: Array<[string, bigint]> = [
      ['-0', 0n],
      ['5.0s', 5_000_000_000n],
      ['5.6s', 5_600_000_000n],
      ['5.s', 5_000_000_000n],
      ['.5s', 500_000_000n],
      ['1.004s', 1_004_000_000n],
      ['100.00100s', 100_001_000_000n],
      ['10ns', 10n],
      ['11us', 11_000n],
      ['3h30m', 12_600_000_000_000n],
      ['10.5s4m', 250_500_000_000n],
      ['-2m3.4s', -123_400_000_000n],
      ['1h2m3s4ms5us6ns', 3_723_004_005_006n],
      ['39h9m14.425s', 140_954_425_000_000n],
      ['52763797000ns', 52_763_797_000n],
      ['0.3333333333333333333h', 1_200_000_000_000n],
      ['9007199254740993ns', 9_007_199_254_740_993n],
      ['9223372036854775807ns', 9_223_372_036_854_775_807n],
      ['9223372036854775.807us', 9_223_372_036_854_775_807n],
      ['9223372036854ms775us807ns', 9_223_372_036_854_775_807n],
      ['-9223372036854775808ns', -9_223_372_036_854_775_808n],
      ['-9223372036854775.808us', -9_223_372_036_854_775_808n],
      ['0.100000000000000000000h', 360_000_000_000n],
      ['0.830103483285477580700h', 2_988_372_539_827n],
    ];
    for (const [text, want] of cases) assert.equal(ns(text), want, text);
  });

  it('rejects what Go rejects, with a reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['3', /missing unit/],
      ['5', /missing unit.*valid units are "ns", "us" \(or "µs"\), "ms", "s", "m", "h"/],
      ['-', /syntax/],
      ['s', /syntax/],
      ['.', /syntax/],
      ['-.', /syntax/],
      ['.s', /syntax/],
      ['+.s', /syntax/],
      ['1d', /unknown unit "d"/],
      ['5 s', /unknown unit " s"/],
      [' 5s', /syntax/],
      ['5sec', /unknown unit "sec"/],
      ['1.2.3s', /syntax|unit/],
      ['\u0085\u0085', /syntax/],
      ['9223372036854775808ns', /out of range/],
      ['9223372036854775.808us', /out of range/],
      ['9223372036854ms775us808ns', /out of range/],
      ['-9223372036854775809ns', /out of range/],
      ['99999999999999999999999h', /out of range/],
    ];
    for (const [text, reason] of cases) {
      const r = tryParseDuration(text);
      assert.equal(r.ok, false, JSON.stringify(text));
      if (!r.ok) assert.match(r.reason, reason, JSON.stringify(text));
    }
  });

  it('throws a ConfigError naming the value', () => {
    assert.throws(
      () => parseDuration('5x'),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'DURATION_INVALID' &&
        err.context.value === '5x' &&
        err.message.includes('"5x" is not a valid duration'),
    );
  });
});

describe('formatDuration', () => {
  it("prints what Go's Duration.String prints", () => {
    const cases: Array<[bigint, string]> = [
      [0n, '0s'],
      [1n, '1ns'],
      [1_100n, '1.1µs'],
      [2_200_000n, '2.2ms'],
      [3_300_000_000n, '3.3s'],
      [240_000_000_000n, '4m0s'],
      [245_000_000_000n, '4m5s'],
      [245_001_000_000n, '4m5.001s'],
      [18_000_000_000_000n, '5h0m0s'],
      [18_001_000_000_000n, '5h0m1s'],
      [-1n, '-1ns'],
      [9_223_372_036_854_775_807n, '2562047h47m16.854775807s'],
      [-9_223_372_036_854_775_808n, '-2562047h47m16.854775808s'],
    ];
    for (const [value, text] of cases) assert.equal(formatNs(value), text, String(value));
  });

  it('formats milliseconds, Go style or compact', () => {
    assert.equal(formatDuration(90_000), '1m30s');
    assert.equal(formatDuration(3_600_000), '1h0m0s');
    assert.equal(formatDuration(3_600_000, { style: 'compact' }), '1h');
    assert.equal(formatDuration(5_400_000, { style: 'compact' }), '1h30m');
    assert.equal(formatDuration(1_000, { style: 'compact' }), '1s');
    assert.equal(formatDuration(0.3), '300µs');
    assert.equal(formatDuration(500), '500ms');
    assert.throws(() => formatDuration(Number.NaN), ConfigError);
  });

  it('round-trips through parseDuration', () => {
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2_000; i++) {
      const value = BigInt(Math.floor(rand() * 10 ** Math.floor(rand() * 16))) * (rand() < 0.2 ? -1n : 1n);
      for (const style of ['go', 'compact'] as const) {
        const text = formatNs(value, style);
        assert.equal(ns(text), value, `${value} → ${text}`);
      }
    }
  });
});
