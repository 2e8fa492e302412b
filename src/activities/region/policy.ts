// The rules that map a country to a data region. The policy is plain data so that it can be loaded
// from a file.
import { continents, countries } from 'countries-list';
import { REGION_PATTERN } from '../../shared';

/** What happens when no rule decides a region: use `defaultRegion`, or hold the signup for an operator. */
export const REGION_FALLBACKS = ['default', 'hold'] as const;
export type RegionFallback = (typeof REGION_FALLBACKS)[number];

export interface RegionPolicy {
  /** Regions that databases may be created in. A requested region outside this list is not used. */
  allowedRegions: string[];
  /** Region per continent code (`AF`, `AN`, `AS`, `EU`, `NA`, `OC`, `SA`). */
  continentRegions: Record<string, string>;
  /** Region per ISO 3166-1 alpha-2 country code, checked before `continentRegions`. */
  countryRegions: Record<string, string>;
  /** Region used when no other rule applies and `fallback` is `default`. */
  defaultRegion: string;
  fallback: RegionFallback;
}

export const DEFAULT_REGION_POLICY: RegionPolicy = {
  allowedRegions: ['eu-west-1', 'ap-southeast-2', 'us-east-1'],
  continentRegions: {
    EU: 'eu-west-1',
    OC: 'ap-southeast-2',
    AF: 'us-east-1',
    AN: 'us-east-1',
    AS: 'us-east-1',
    NA: 'us-east-1',
    SA: 'us-east-1',
  },
  countryRegions: {},
  defaultRegion: 'us-east-1',
  fallback: 'default',
};

const COUNTRY_CODE_PATTERN = /^[A-Z]{2}$/;

/**
 * Finds the policy's region for a country: first by country code, then by continent. The continent
 * comes from the database record when it has one, else from the `countries-list` package.
 */
export function regionForCountry(policy: RegionPolicy, country: string, continent?: string): string | undefined {
  if (Object.hasOwn(policy.countryRegions, country)) {
    return policy.countryRegions[country];
  }

  const continentCode = continent ?? continentOfCountry(country);
  if (continentCode !== undefined && Object.hasOwn(policy.continentRegions, continentCode)) {
    return policy.continentRegions[continentCode];
  }
  return undefined;
}

// NOTE: countries-list 3.4 gives one main continent per country (AS for RU and TR). A MaxMind
// record's own continent can differ, so such countries may get another region with MaxMind data.
function continentOfCountry(country: string): string | undefined {
  if (!Object.hasOwn(countries, country)) {
    return undefined;
  }
  return countries[country as keyof typeof countries].continent;
}

/** Checks a policy and throws an Error that lists every problem found. */
export function validateRegionPolicy(policy: RegionPolicy): void {
  const problems = findPolicyProblems(policy);
  if (problems.length > 0) {
    throw new Error(`Invalid region policy: ${problems.join('; ')}. ${POLICY_HINT}`);
  }
}

export const POLICY_HINT =
  'Region names look like eu-west-1, and every region the policy uses must be listed in allowedRegions.';

/** Lists the problems of a policy, or returns an empty list when it is valid. */
export function findPolicyProblems(policy: RegionPolicy): string[] {
  const problems: string[] = [];
  const allowed = new Set<string>();

  if (!Array.isArray(policy.allowedRegions) || policy.allowedRegions.length === 0) {
    problems.push('allowedRegions must be a non-empty list of region names');
  } else {
    for (const region of policy.allowedRegions) {
      if (isRegionName(region)) {
        allowed.add(region);
      } else {
        problems.push(`allowedRegions contains ${JSON.stringify(region)}, which is not a region name`);
      }
    }
  }

  if (!allowed.has(policy.defaultRegion)) {
    problems.push(`defaultRegion ${JSON.stringify(policy.defaultRegion)} is not in allowedRegions`);
  }

  const continentKey = { kind: 'continent code such as EU', isValid: isContinentCode };
  const countryKey = { kind: 'two-letter upper-case country code', isValid: isCountryCode };
  checkRegionMap(policy.continentRegions, 'continentRegions', continentKey, allowed, problems);
  checkRegionMap(policy.countryRegions, 'countryRegions', countryKey, allowed, problems);

  if (!(REGION_FALLBACKS as readonly unknown[]).includes(policy.fallback)) {
    problems.push(`fallback ${JSON.stringify(policy.fallback)} is not "default" or "hold"`);
  }
  return problems;
}

function checkRegionMap(
  map: Record<string, string>,
  field: string,
  keyRule: { kind: string; isValid: (key: string) => boolean },
  allowed: ReadonlySet<string>,
  problems: string[],
): void {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    problems.push(`${field} must be an object that maps codes to regions`);
    return;
  }

  for (const [key, region] of Object.entries(map)) {
    if (!keyRule.isValid(key)) {
      problems.push(`${field} key ${JSON.stringify(key)} is not a ${keyRule.kind}`);
    }
    if (!allowed.has(region)) {
      problems.push(`${field}.${key} maps to ${JSON.stringify(region)}, which is not in allowedRegions`);
    }
  }
}

function isRegionName(value: unknown): value is string {
  return typeof value === 'string' && REGION_PATTERN.test(value);
}

function isContinentCode(key: string): boolean {
  return Object.hasOwn(continents, key);
}

// Any two upper-case letters pass, so that a policy can name codes that countries-list lacks.
function isCountryCode(key: string): boolean {
  return COUNTRY_CODE_PATTERN.test(key);
}
