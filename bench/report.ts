/** One benchmark result per line, as JSON: the format every benchmark prints. */
export interface BenchResult {
  bench: string;
  value: number;
  unit: string;
  /** What the value is compared with ("none" when nothing comparable runs here). */
  baseline: string;
  ratio: number | null;
}

export function report(r: BenchResult): void {
  process.stdout.write(JSON.stringify({ ...r, value: round(r.value), ratio: r.ratio === null ? null : round(r.ratio) }) + '\n');
}

function round(v: number): number {
  return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 1000) / 1000;
}

/** Progress and notes go to stderr so stdout stays machine-readable. */
export function note(text: string): void {
  process.stderr.write(`# ${text}\n`);
}

/** True when the module is the process's entry point (run directly rather than imported). */
export function isMain(meta: ImportMeta): boolean {
  return process.argv[1] !== undefined && new URL(meta.url).pathname === process.argv[1];
}
