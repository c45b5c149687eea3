/**
 * Time buckets for throughput series: a round bucket width for a range, and series with every
 * bucket present (zeros where no record ended), so charts need no gap handling.
 */
import { ApiError } from '../../errors.ts';
import type { ThroughputPoint } from './types.ts';

const NICE_WIDTHS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
export const TARGET_BUCKETS = 200;
export const MAX_BUCKETS = 10_000;

/** The bucket width: the requested one (checked), else the smallest round width giving ≤ 200 buckets. */
export function bucketWidth(from: number, to: number, requested: number | undefined): number {
  const span = Math.max(1, to - from);
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > 86400 * 31) {
      throw new ApiError('BAD_QUERY', 'bucketSeconds: expected an integer from 1 to 2678400', { field: 'bucketSeconds', value: requested });
    }
    if (span / requested > MAX_BUCKETS) {
      throw new ApiError('BAD_QUERY', `bucketSeconds: ${requested} s gives more than ${MAX_BUCKETS} buckets for this range`, {
        field: 'bucketSeconds',
        value: requested,
      });
    }
    return requested;
  }
  for (const w of NICE_WIDTHS) if (span / w <= TARGET_BUCKETS) return w;
  return Math.ceil(span / TARGET_BUCKETS / 86400) * 86400;
}

/** Start of the bucket holding t. */
export function bucketStart(t: number, width: number): number {
  return Math.floor(t / width) * width;
}

/** Points for every bucket in [from, to), from sparse (bucket start → bytes) sums. */
export function fillPoints(sums: ReadonlyMap<number, bigint>, from: number, to: number, width: number): ThroughputPoint[] {
  const points: ThroughputPoint[] = [];
  const last = Math.max(from, to - 1);
  for (let t = bucketStart(from, width); t <= last; t += width) {
    const bytes = sums.get(t) ?? 0n;
    points.push({ time: t, bytes, bitsPerSecond: (Number(bytes) * 8) / width });
  }
  return points;
}
