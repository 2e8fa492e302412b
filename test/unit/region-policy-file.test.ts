import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  DEFAULT_REGION_POLICY,
  DEFAULT_REGION_POLICY_FILE,
  loadRegionPolicyFile,
  type RegionPolicy,
} from '../../src/activities/region';

const REPO_POLICY_FILE = path.resolve(__dirname, '../../config/region-policy.json');

describe('loadRegionPolicyFile', () => {
  let directory: string;

  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'region-policy-'));
  });

  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  async function writePolicy(name: string, content: unknown): Promise<string> {
    const file = path.join(directory, name);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  /** Loads `file`, expects an Error, and returns its message. */
  async function loadError(file: string): Promise<string> {
    try {
      await loadRegionPolicyFile(file);
    } catch (error) {
      assert.ok(error instanceof Error);
      return error.message;
    }
    assert.fail(`expected ${file} to be rejected`);
  }

  test('default path is repo file', () => {
    assert.equal(DEFAULT_REGION_POLICY_FILE, REPO_POLICY_FILE);
  });

  test('repo file equals embedded default', async () => {
    assert.deepEqual(await loadRegionPolicyFile(REPO_POLICY_FILE), DEFAULT_REGION_POLICY);
  });

  test('hold policy loads', async () => {
    const policy: RegionPolicy = { ...DEFAULT_REGION_POLICY, countryRegions: { CH: 'eu-west-1' }, fallback: 'hold' };
    const file = await writePolicy('hold.json', policy);

    assert.deepEqual(await loadRegionPolicyFile(file), policy);
  });

  test('missing file', async () => {
    const file = path.join(directory, 'absent.json');
    const message = await loadError(file);

    assert.ok(message.includes(file), message);
    assert.match(message, /Failed to read the region policy file/);
    assert.match(message, /REGION_POLICY_FILE/);
  });

  test('not JSON', async () => {
    const file = await writePolicy('broken.json', '{ "allowedRegions": [');
    const message = await loadError(file);

    assert.ok(message.includes(file), message);
    assert.match(message, /not valid JSON/);
  });

  test('array instead of object', async () => {
    const file = await writePolicy('array.json', []);

    assert.match(await loadError(file), /expected a JSON object/);
  });

  test('misspelt key', async () => {
    const { fallback, ...rest } = DEFAULT_REGION_POLICY;
    const file = await writePolicy('typo.json', { ...rest, fallbak: fallback });
    const message = await loadError(file);

    assert.match(message, /unknown key "fallbak"/);
    assert.match(message, /missing key "fallback"/);
  });

  test('unknown fallback', async () => {
    const file = await writePolicy('fallback.json', { ...DEFAULT_REGION_POLICY, fallback: 'nearest' });
    const message = await loadError(file);

    assert.ok(message.includes(file), message);
    assert.match(message, /fallback "nearest" is not "default" or "hold"/);
  });

  test('region not allowed', async () => {
    const policy = { ...DEFAULT_REGION_POLICY, countryRegions: { NL: 'eu-central-1' } };
    const file = await writePolicy('not-allowed.json', policy);
    const message = await loadError(file);

    assert.match(message, /^Invalid region policy file /);
    assert.match(message, /countryRegions\.NL maps to "eu-central-1", which is not in allowedRegions/);
  });
});
