import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../errors.ts';
import { loadAgentConfig, loadAggregatorConfig } from './load.ts';

describe('configuration file loaders', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fv-config-test-'));
  });
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('loads antrea-agent.conf from a path', async () => {
    const path = join(dir, 'antrea-agent.conf');
    await writeFile(path, 'featureGates:\n  FlowExporter: true\nflowExporter:\n  enable: true\n  flowPollInterval: 2s\n');
    const { config, warnings } = await loadAgentConfig({ path });
    assert.equal(config.flowExporter.enabled, true);
    assert.equal(config.flowExporter.flowPollInterval, 2_000);
    assert.deepEqual(warnings, []);
  });

  it('loads flow-aggregator.conf from a path, with the environment given', async () => {
    const path = join(dir, 'flow-aggregator.conf');
    await writeFile(path, 'clickHouse:\n  enable: true\n');
    const { config } = await loadAggregatorConfig({ path }, { env: { AWS_REGION: 'eu-west-3' } });
    assert.equal(config.clickHouse.enable, true);
    assert.equal(config.s3Uploader.region, 'eu-west-3');
  });

  it('takes the text directly', async () => {
    const agent = await loadAgentConfig({ text: 'flowExporter:\n  enable: false\n' });
    assert.equal(agent.config.flowExporter.enable, false);
    const fa = await loadAggregatorConfig({ text: 'mode: Aggregate\n' }, { env: {} });
    assert.equal(fa.config.mode, 'Aggregate');
  });

  it('names the file in validation errors', async () => {
    const path = join(dir, 'bad-aggregator.conf');
    await writeFile(path, 'clickHouse:\n  enable: true\n  commitInterval: 10ms\n');
    await assert.rejects(
      () => loadAggregatorConfig({ path }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'CONFIG_INVALID' &&
        err.context.source === path &&
        err.message.startsWith(`${path}: invalid configuration: clickHouse.commitInterval: "10ms" is below the minimum of 1s`),
    );
    await assert.rejects(
      () => loadAgentConfig({ text: 'flowExporter: [', source: 'inline.conf' }),
      (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG_SYNTAX' && err.message.startsWith('inline.conf: '),
    );
  });

  it('turns read failures into ConfigError CONFIG_READ', async () => {
    const path = join(dir, 'missing.conf');
    await assert.rejects(
      () => loadAgentConfig({ path }),
      (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG_READ' && /ENOENT/.test(err.message) && err.context.path === path,
    );
    await assert.rejects(
      () => loadAggregatorConfig({ path: dir }),
      (err: unknown) => err instanceof ConfigError && err.code === 'CONFIG_READ' && /EISDIR/.test(err.message),
    );
  });
});
