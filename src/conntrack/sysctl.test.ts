import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConntrackError } from '../errors.ts';
import { enableConntrackAccounting, readConntrackCount, readConntrackMax } from './sysctl.ts';

describe('conntrack sysctls', () => {
  let root: string;
  const file = (name: string): string => join(root, 'net/netfilter', name);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fvt-sysctl-'));
    await mkdir(join(root, 'net/netfilter'), { recursive: true });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('enables accounting and timestamps when they are off', async () => {
    await writeFile(file('nf_conntrack_acct'), '0\n');
    await writeFile(file('nf_conntrack_timestamp'), '0\n');
    assert.deepEqual(await enableConntrackAccounting({ procRoot: root }), []);
    assert.equal((await readFile(file('nf_conntrack_acct'), 'utf8')).trim(), '1');
    assert.equal((await readFile(file('nf_conntrack_timestamp'), 'utf8')).trim(), '1');
  });

  it('returns warnings instead of throwing when a setting cannot be read or written', async () => {
    await rm(file('nf_conntrack_timestamp'));
    await writeFile(file('nf_conntrack_acct'), '0\n');
    const warnings = await enableConntrackAccounting({ procRoot: join(root, 'missing') });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /nf_conntrack_acct/);
    const partial = await enableConntrackAccounting({ procRoot: root });
    assert.ok(partial.some((w) => /nf_conntrack_timestamp/.test(w)));
  });

  it('reads nf_conntrack_max and nf_conntrack_count', async () => {
    await writeFile(file('nf_conntrack_max'), '262144\n');
    await writeFile(file('nf_conntrack_count'), '17\n');
    assert.equal(await readConntrackMax({ procRoot: root }), 262144);
    assert.equal(await readConntrackCount({ procRoot: root }), 17);
    await writeFile(file('nf_conntrack_count'), 'lots\n');
    await assert.rejects(readConntrackCount({ procRoot: root }), (e) => e instanceof ConntrackError && e.code === 'SYSCTL_VALUE');
    await assert.rejects(readConntrackMax({ procRoot: join(root, 'x') }), (e) => e instanceof ConntrackError && e.code === 'SYSCTL_READ');
  });
});
