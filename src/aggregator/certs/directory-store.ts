/**
 * The PKI kept in a directory (outside Kubernetes), reused on restart:
 *
 *   ca.crt ca.key          the CA (ca.key 0600)
 *   tls.crt tls.key        the server certificate of the collecting process and the API server
 *   client.crt client.key  the exporters' client certificate (give ca.crt + these to the agents)
 *
 * Files are written atomically (temporary file, then rename); keys are created with mode 0600 and
 * certificates 0644.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TransportError } from '../../errors.ts';
import type { PemPair, Pki } from './pki.ts';
import type { PkiStore } from './store.ts';

export const PKI_FILES = {
  ca: { cert: 'ca.crt', key: 'ca.key' },
  server: { cert: 'tls.crt', key: 'tls.key' },
  client: { cert: 'client.crt', key: 'client.key' },
} as const;

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TransportError('PKI_READ', `cannot read ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/** Writes `text` to `path` atomically with `mode`, creating the parent directory if needed. */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await writeFile(tmp, text, { mode });
    await chmod(tmp, mode); // the umask may have narrowed or the file existed
    await rename(tmp, path);
  } catch (e) {
    throw new TransportError('PKI_WRITE', `cannot write ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

export class DirectoryPkiStore implements PkiStore {
  constructor(readonly dir: string) {}

  get description(): string {
    return `directory ${this.dir}`;
  }

  path(part: keyof Pki, what: 'cert' | 'key'): string {
    return join(this.dir, PKI_FILES[part][what]);
  }

  async load(): Promise<Partial<Pki>> {
    const out: { -readonly [K in keyof Pki]?: PemPair } = {};
    for (const part of ['ca', 'server', 'client'] as const) {
      const [cert, key] = await Promise.all([readOptional(this.path(part, 'cert')), readOptional(this.path(part, 'key'))]);
      if (cert !== undefined && key !== undefined) out[part] = { cert, key };
    }
    return out;
  }

  async save(pki: Pki): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new TransportError('PKI_WRITE', `cannot create ${this.dir}: ${(e as Error).message}`, { path: this.dir }, { cause: e });
    }
    for (const part of ['ca', 'server', 'client'] as const) {
      await writeFileAtomic(this.path(part, 'key'), pki[part].key, 0o600);
      await writeFileAtomic(this.path(part, 'cert'), pki[part].cert, 0o644);
    }
  }
}
