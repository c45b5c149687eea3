import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConntrackError } from '../errors.ts';
import { createConntrackSource } from './factory.ts';

// These open real sockets (netlink, or the conntrack CLI's --version) but read no table.
describe('createConntrackSource', () => {
  it('picks netlink first', async () => {
    const { source, kind, fallbackReason } = await createConntrackSource();
    try {
      assert.equal(kind, 'netlink');
      assert.equal(source.kind, 'netlink');
      assert.equal(fallbackReason, undefined);
    } finally {
      source.close();
    }
  });

  it('uses the conntrack CLI when asked, and falls back to netlink when the CLI is missing', async () => {
    const cli = await createConntrackSource({ prefer: 'conntrack-cli' });
    assert.equal(cli.kind, 'conntrack-cli');
    cli.source.close();
    const fb = await createConntrackSource({ prefer: 'conntrack-cli', cli: { binary: '/nonexistent/conntrack' } });
    try {
      assert.equal(fb.kind, 'netlink');
      assert.match(fb.fallbackReason ?? '', /cannot be run/);
    } finally {
      fb.source.close();
    }
    await assert.rejects(
      createConntrackSource({ prefer: 'conntrack-cli', only: true, cli: { binary: '/nonexistent/conntrack' } }),
      (e) => e instanceof ConntrackError && e.code === 'CLI_UNAVAILABLE',
    );
  });

  it('rejects dumps on a closed source with a typed error', async () => {
    const { source } = await createConntrackSource();
    source.close();
    await assert.rejects(source.dump(() => undefined), (e) => e instanceof ConntrackError && e.code === 'SOURCE_CLOSED');
  });
});
