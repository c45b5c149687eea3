/**
 * An append-only log file that rotates by size, with the semantics of lumberjack v2 (the Go
 * package Antrea's flowlogger writes through):
 *
 * - Lines are appended to `path` (created with mode 0600, its directory with 0755). Before a line
 *   that would take the file past maxSizeBytes, the file is renamed to a backup and a new one
 *   (same mode) is started; an existing file is appended to when the first line fits, else
 *   rotated first. A single line larger than the limit is written alone into a fresh file.
 * - Backup name: <dir>/<name>-<UTC time "2006-01-02T15-04-05.000"><ext>, e.g.
 *   /tmp/antrea-flows-2024-05-01T10-00-00.000.log (a name already taken gets the next ms).
 * - After each rotation (and when the file is first opened) the backups are cleaned up in the
 *   background: beyond the maxBackups newest (0: keep all) and older than maxAgeDays (0: any age)
 *   they are removed; with compress the rest are gzipped to <backup>.gz and the originals removed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { silentSinkLogger, type SinkLogger } from '../flow-row.ts';

export interface RotatingFileOptions {
  path: string;
  maxSizeBytes: number;
  /** Backups kept (0: all). */
  maxBackups: number;
  /** Days backups are kept (0: any age). */
  maxAgeDays: number;
  compress: boolean;
  /** Clock in ms, for backup names and ages (default Date.now). */
  now?: () => number;
  logger?: SinkLogger;
}

export interface BackupFile {
  readonly name: string;
  /** Rotation time in ms, from the name. */
  readonly time: number;
  readonly compressed: boolean;
}

const DAY_MS = 24 * 3600 * 1000;
const STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/;

/** "2006-01-02T15-04-05.000" of a time in ms (UTC). */
export function backupTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace(/:/g, '-');
}

export class RotatingFile {
  readonly path: string;
  private readonly maxSize: number;
  private readonly opts: RotatingFileOptions;
  private readonly now: () => number;
  private readonly log: SinkLogger;
  private readonly dir: string;
  private readonly prefix: string;
  private readonly ext: string;
  private fh: FileHandle | null = null;
  private size = 0;
  private mode = 0o600;
  private millChain: Promise<void> = Promise.resolve();
  private rotationCount = 0;
  private millErrorCount = 0;

  constructor(options: RotatingFileOptions) {
    if (!(options.maxSizeBytes > 0)) throw new RangeError(`maxSizeBytes must be positive, got ${options.maxSizeBytes}`);
    this.opts = options;
    this.path = options.path;
    this.maxSize = options.maxSizeBytes;
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? silentSinkLogger;
    this.dir = dirname(options.path);
    const name = basename(options.path);
    this.ext = extname(name);
    this.prefix = name.slice(0, name.length - this.ext.length) + '-';
  }

  get rotations(): number {
    return this.rotationCount;
  }

  /** Clean-ups (removal, compression) that failed; each is logged. */
  get millErrors(): number {
    return this.millErrorCount;
  }

  /**
   * Appends lines (each ending in "\n"), rotating between lines as needed. On a write error the
   * file is closed (the next call reopens it) and the error is thrown.
   */
  async writeLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    try {
      let chunk = '';
      let chunkBytes = 0;
      for (const line of lines) {
        const bytes = Buffer.byteLength(line, 'utf8');
        if (!this.fh) await this.openExistingOrNew(bytes);
        if (this.size + chunkBytes + bytes > this.maxSize && this.size + chunkBytes > 0) {
          if (chunkBytes > 0) await this.append(chunk, chunkBytes);
          chunk = '';
          chunkBytes = 0;
          await this.rotate();
        }
        chunk += line;
        chunkBytes += bytes;
      }
      if (chunkBytes > 0) await this.append(chunk, chunkBytes);
    } catch (e) {
      const fh = this.fh;
      this.fh = null;
      if (fh) await fh.close().catch(() => {});
      throw e;
    }
  }

  /** Resolves when background clean-ups scheduled so far are done. */
  idle(): Promise<void> {
    return this.millChain;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
    await this.millChain;
  }

  /** The backups of this file, newest first. */
  async backups(): Promise<BackupFile[]> {
    const out: BackupFile[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.startsWith(this.prefix)) continue;
      let rest = name.slice(this.prefix.length);
      const compressed = rest.endsWith(this.ext + '.gz');
      if (compressed) rest = rest.slice(0, rest.length - 3);
      if (!rest.endsWith(this.ext)) continue;
      const m = STAMP.exec(rest.slice(0, rest.length - this.ext.length));
      if (!m) continue;
      const [y, mo, d, h, mi, s, ms] = m.slice(1).map(Number);
      out.push({ name, time: Date.UTC(y, mo - 1, d, h, mi, s, ms), compressed });
    }
    return out.sort((a, b) => b.time - a.time || Number(a.compressed) - Number(b.compressed));
  }

  private async append(text: string, bytes: number): Promise<void> {
    await this.fh!.write(text);
    this.size += bytes;
  }

  private async openExistingOrNew(firstWrite: number): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    this.scheduleMill();
    let existing;
    try {
      existing = await stat(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (existing && existing.size + firstWrite <= this.maxSize) {
      this.fh = await open(this.path, 'a');
      this.size = existing.size;
      this.mode = existing.mode & 0o777;
      return;
    }
    if (existing) this.mode = existing.mode & 0o777;
    await this.openNew(existing !== undefined);
  }

  private async rotate(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await fh.close();
    await this.openNew(true);
  }

  /** Moves the current file (if any) to a backup name and starts an empty file. */
  private async openNew(backupCurrent: boolean): Promise<void> {
    if (backupCurrent) {
      await rename(this.path, await this.freeBackupName());
      this.rotationCount++;
      this.scheduleMill();
    }
    const fh = await open(this.path, 'a', this.mode);
    await chmod(this.path, this.mode).catch(() => {});
    this.fh = fh;
    this.size = 0;
  }

  private async freeBackupName(): Promise<string> {
    for (let t = this.now(); ; t++) {
      const name = join(this.dir, `${this.prefix}${backupTimestamp(t)}${this.ext}`);
      const taken = await Promise.all([exists(name), exists(name + '.gz')]);
      if (!taken[0] && !taken[1]) return name;
    }
  }

  private scheduleMill(): void {
    const { maxBackups, maxAgeDays, compress } = this.opts;
    if (maxBackups <= 0 && maxAgeDays <= 0 && !compress) return;
    this.millChain = this.millChain.then(() => this.mill()).catch((e: unknown) => {
      this.millErrorCount++;
      this.log.error({ err: e, path: this.path }, 'flow log: cleaning up rotated files failed');
    });
  }

  /** Removes backups beyond maxBackups / older than maxAgeDays; compresses the rest. */
  private async mill(): Promise<void> {
    const { maxBackups, maxAgeDays, compress } = this.opts;
    let files = await this.backups();
    const remove: BackupFile[] = [];
    if (maxBackups > 0 && files.length > maxBackups) {
      const preserved = new Set<string>();
      const remaining: BackupFile[] = [];
      for (const f of files) {
        preserved.add(f.compressed ? f.name.slice(0, -3) : f.name);
        if (preserved.size > maxBackups) remove.push(f); else remaining.push(f);
      }
      files = remaining;
    }
    if (maxAgeDays > 0) {
      const cutoff = this.now() - maxAgeDays * DAY_MS;
      const remaining: BackupFile[] = [];
      for (const f of files) {
        if (f.time < cutoff) remove.push(f); else remaining.push(f);
      }
      files = remaining;
    }
    const errors: unknown[] = [];
    for (const f of remove) {
      await unlink(join(this.dir, f.name)).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ENOENT') errors.push(e); });
    }
    if (compress) {
      const gz = new Set(files.filter((f) => f.compressed).map((f) => f.name.slice(0, -3)));
      for (const f of files) {
        if (f.compressed || gz.has(f.name)) continue;
        await this.compressFile(join(this.dir, f.name)).catch((e: unknown) => errors.push(e));
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  private async compressFile(src: string): Promise<void> {
    const dst = src + '.gz';
    const { mode } = await stat(src);
    try {
      await pipeline(createReadStream(src), createGzip(), createWriteStream(dst, { mode: mode & 0o777 }));
    } catch (e) {
      await unlink(dst).catch(() => {});
      throw e;
    }
    await unlink(src);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
