/** A scratch directory for configuration files, kubeconfigs and logs of one test run. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class WorkDir {
  private constructor(readonly path: string) {}

  static async create(prefix = 'fv-e2e-'): Promise<WorkDir> {
    return new WorkDir(await mkdtemp(join(tmpdir(), prefix)));
  }

  /** Absolute path of `name` inside the directory. */
  file(name: string): string {
    return join(this.path, name);
  }

  /** Writes `text` to `name` and returns its path. */
  async write(name: string, text: string): Promise<string> {
    const p = this.file(name);
    await writeFile(p, text, { mode: 0o600 });
    return p;
  }

  /** Deletes the directory; never throws. */
  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true }).catch(() => undefined);
  }
}
