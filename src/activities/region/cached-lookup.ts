// An in-memory cache in front of a country lookup, so that repeated signups from one address (retries,
// an office network) cost one online request.
import type { AsyncCountryLookup, CountryLookup, CountryMatch } from './country-lookup';

export interface CountryCacheOptions {
  /** How long a result stays usable, in milliseconds. Default: 10 minutes. */
  ttlMs?: number;
  /** Maximum number of addresses kept; the least recently used one is dropped first. Default: 10,000. */
  maxEntries?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

export const DEFAULT_CACHE_TTL_MS = 10 * 60 * 1000;
export const DEFAULT_CACHE_MAX_ENTRIES = 10_000;

interface Entry {
  match: CountryMatch | undefined;
  expiresAt: number;
}

/**
 * Wraps a lookup with a cache keyed by normalized address. Results, including "no record", are cached.
 * Errors are not, so a failed lookup is tried again on the next call.
 */
export function cacheCountryLookup(inner: CountryLookup, options: CountryCacheOptions = {}): AsyncCountryLookup {
  const ttlMs = options.ttlMs ?? DEFAULT_CACHE_TTL_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_CACHE_MAX_ENTRIES;
  const now = options.now ?? Date.now;
  if (!(ttlMs > 0) || !Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`Invalid country cache options: ttlMs ${ttlMs} and maxEntries ${maxEntries} must be positive`);
  }

  // A Map iterates in insertion order, so re-inserting on every hit keeps the least recently used first.
  const entries = new Map<string, Entry>();

  return {
    name: inner.name,
    ...(inner.buildDate === undefined ? {} : { buildDate: inner.buildDate }),
    async lookup(address: string): Promise<CountryMatch | undefined> {
      const cached = entries.get(address);
      if (cached !== undefined) {
        entries.delete(address);
        if (cached.expiresAt > now()) {
          entries.set(address, cached);
          return cached.match;
        }
      }

      const match = await inner.lookup(address);
      entries.set(address, { match, expiresAt: now() + ttlMs });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      return match;
    },
  };
}
