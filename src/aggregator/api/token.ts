/**
 * The API server's bearer token: a random 256-bit value (base64url) in a file of mode 0600 that the
 * CLI reads. An existing non-empty token file is reused, so clients keep working across restarts;
 * delete the file to get a new token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { ApiError } from '../../errors.ts';
import { writeFileAtomic } from '../certs/index.ts';

const TOKEN_TEXT = /^[\x21-\x7e]{16,4096}$/;

/** Reads the token of an existing file, or undefined when there is none (missing or empty file). */
async function readExisting(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ApiError('TOKEN_FILE', `cannot read token file ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  const token = text.trim();
  if (token === '') return undefined;
  if (!TOKEN_TEXT.test(token)) throw new ApiError('TOKEN_FILE', `token file ${path} must hold one token of 16 to 4096 printable characters`, { path });
  return token;
}

/** The token in `path`, created (random, mode 0600) when the file is missing or empty. */
export async function loadOrCreateToken(path: string): Promise<string> {
  const existing = await readExisting(path);
  if (existing !== undefined) {
    await chmod(path, 0o600).catch(() => undefined);
    return existing;
  }
  const token = randomBytes(32).toString('base64url');
  await writeFileAtomic(path, token + '\n', 0o600);
  return token;
}

/** The token a client sends (ApiError TOKEN_FILE when the file is missing, unreadable or empty). */
export async function readTokenFile(path: string): Promise<string> {
  let token: string | undefined;
  try {
    token = await readExisting(path);
  } catch (e) {
    if (e instanceof ApiError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'EACCES') {
      throw new ApiError('TOKEN_FILE', `cannot read token file ${path}: permission denied (it is readable by the aggregator's user only)`, { path }, { cause: e });
    }
    throw e;
  }
  if (token === undefined) throw new ApiError('TOKEN_FILE', `token file ${path} does not exist or is empty`, { path });
  return token;
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
