// Configuration of region decisions: the policy file, the metadata key and the country source.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';

import { loadCommonConfig } from '../../src/config';
import { CONFIG_CWD, configError } from '../helpers/config';

const CWD = CONFIG_CWD;

describe('region configuration defaults', () => {
  const config = loadCommonConfig({}, CWD);

  test('policy file unset', () => assert.equal(config.regionPolicyFile, undefined));
  test('metadata key dataRegion', () => assert.equal(config.regionMetadataKey, 'dataRegion'));
  test('source mmdb', () => assert.equal(config.geoipSource, 'mmdb'));
  test('ip-api key unset', () => assert.equal(config.ipApi.key, undefined));
  test('ip-api base URL unset', () => assert.equal(config.ipApi.baseUrl, undefined));
});

describe('region configuration overrides', () => {
  test('policy file under cwd', () => {
    const config = loadCommonConfig({ REGION_POLICY_FILE: 'policies/eu-only.json' }, CWD);
    assert.equal(config.regionPolicyFile, path.join(CWD, 'policies/eu-only.json'));
  });

  test('empty policy file is unset', () => {
    assert.equal(loadCommonConfig({ REGION_POLICY_FILE: '' }, CWD).regionPolicyFile, undefined);
  });

  test('metadata key', () => {
    assert.equal(loadCommonConfig({ REGION_METADATA_KEY: 'data_region' }, CWD).regionMetadataKey, 'data_region');
  });

  test('ip-api source', () => {
    const config = loadCommonConfig(
      { GEOIP_SOURCE: 'ip-api', IP_API_KEY: 'k3y', IP_API_BASE_URL: 'http://127.0.0.1:8080' },
      CWD,
    );
    assert.equal(config.geoipSource, 'ip-api');
    assert.equal(config.ipApi.key, 'k3y');
    assert.equal(config.ipApi.baseUrl, 'http://127.0.0.1:8080');
  });
});

describe('region configuration errors', () => {
  const cases: { name: string; env: Record<string, string>; message: RegExp }[] = [
    { name: 'unknown source', env: { GEOIP_SOURCE: 'maxmind' }, message: /GEOIP_SOURCE: expected mmdb or ip-api/ },
    { name: 'base URL not URL', env: { IP_API_BASE_URL: 'localhost:8080' }, message: /IP_API_BASE_URL: expected/ },
    { name: 'base URL ftp', env: { IP_API_BASE_URL: 'ftp://127.0.0.1/' }, message: /IP_API_BASE_URL: expected/ },
    {
      name: 'base URL with query',
      env: { IP_API_BASE_URL: 'http://127.0.0.1:8080/?key=x' },
      message: /IP_API_BASE_URL: expected/,
    },
    { name: 'padded key', env: { IP_API_KEY: ' k3y' }, message: /IP_API_KEY: must not start or end with white space/ },
    { name: 'metadata key dotted', env: { REGION_METADATA_KEY: 'data.region' }, message: /REGION_METADATA_KEY/ },
    { name: 'metadata key too long', env: { REGION_METADATA_KEY: 'k'.repeat(65) }, message: /REGION_METADATA_KEY/ },
  ];

  for (const { name, env, message } of cases) {
    test(name, () => {
      assert.match(configError(() => loadCommonConfig(env, CWD)).message, message);
    });
  }

  test('key never in message', () => {
    const error = configError(() => loadCommonConfig({ IP_API_KEY: ' secret-key-value ' }, CWD));
    assert.equal(error.message.includes('secret-key-value'), false);
  });
});
