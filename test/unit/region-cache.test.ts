import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  cacheCountryLookup,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_TTL_MS,
  type CountryLookup,
  type CountryMatch,
} from '../../src/activities/region';

/** A lookup that records each requested address and returns its match from `matches`. */
function countingLookup(matches: Record<string, CountryMatch | undefined> = {}) {
  const calls: string[] = [];
  const lookup: CountryLookup = {
    name: 'counting',
    buildDate: '2026-01-02T03:04:05.000Z',
    lookup: (address) => {
      calls.push(address);
      return Promise.resolve(matches[address]);
    },
  };
  return { lookup, calls };
}

describe('cacheCountryLookup', () => {
  test('defaults', () => {
    assert.equal(DEFAULT_CACHE_TTL_MS, 600_000);
    assert.equal(DEFAULT_CACHE_MAX_ENTRIES, 10_000);
  });

  test('keeps name and build date', () => {
    const { lookup } = countingLookup();
    const cached = cacheCountryLookup(lookup);

    assert.equal(cached.name, 'counting');
    assert.equal(cached.buildDate, '2026-01-02T03:04:05.000Z');
  });

  test('hit skips inner lookup', async () => {
    const { lookup, calls } = countingLookup({ '193.0.6.139': { country: 'NL' } });
    const cached = cacheCountryLookup(lookup);

    assert.deepEqual(await cached.lookup('193.0.6.139'), { country: 'NL' });
    assert.deepEqual(await cached.lookup('193.0.6.139'), { country: 'NL' });
    assert.deepEqual(calls, ['193.0.6.139']);
  });

  test('no record is cached', async () => {
    const { lookup, calls } = countingLookup();
    const cached = cacheCountryLookup(lookup);

    assert.equal(await cached.lookup('3000::1'), undefined);
    assert.equal(await cached.lookup('3000::1'), undefined);
    assert.equal(calls.length, 1);
  });

  test('entry expires', async () => {
    let now = 1_000;
    const { lookup, calls } = countingLookup({ '8.8.8.8': { country: 'US' } });
    const cached = cacheCountryLookup(lookup, { ttlMs: 60_000, now: () => now });

    await cached.lookup('8.8.8.8');
    now += 59_999;
    await cached.lookup('8.8.8.8');
    assert.equal(calls.length, 1);

    now += 1;
    await cached.lookup('8.8.8.8');
    assert.equal(calls.length, 2);
  });

  test('least recently used dropped', async () => {
    const { lookup, calls } = countingLookup();
    const cached = cacheCountryLookup(lookup, { maxEntries: 2 });

    await cached.lookup('1.1.1.1');
    await cached.lookup('8.8.8.8');
    await cached.lookup('1.1.1.1');
    await cached.lookup('9.9.9.9');
    assert.deepEqual(calls, ['1.1.1.1', '8.8.8.8', '9.9.9.9']);

    await cached.lookup('1.1.1.1');
    assert.equal(calls.length, 3);
    await cached.lookup('8.8.8.8');
    assert.deepEqual(calls.slice(3), ['8.8.8.8']);
  });

  test('errors not cached', async () => {
    let attempts = 0;
    const lookup: CountryLookup = {
      name: 'flaky',
      lookup: () => {
        attempts += 1;
        if (attempts === 1) throw new Error('timed out');
        return { country: 'AU' };
      },
    };
    const cached = cacheCountryLookup(lookup);

    await assert.rejects(cached.lookup('139.130.4.5'), /timed out/);
    assert.deepEqual(await cached.lookup('139.130.4.5'), { country: 'AU' });
    assert.equal(attempts, 2);
  });

  for (const options of [{ ttlMs: 0 }, { maxEntries: 0 }, { maxEntries: 1.5 }, { ttlMs: Number.NaN }]) {
    test(`rejects ${JSON.stringify(options)}`, () => {
      assert.throws(() => cacheCountryLookup(countingLookup().lookup, options), RangeError);
    });
  }
});
