// Decides the data region for a new user from the region they chose or the country of their IP.
import { RegionSource, type RegionDecision, type RegionRequest } from '../../shared';
import { normalizeAddress } from './address';
import type { CountryLookup } from './country-lookup';
import { regionForCountry, validateRegionPolicy, type RegionPolicy } from './policy';

export interface RegionResolverOptions {
  lookup: CountryLookup;
  policy: RegionPolicy;
  /** Receives the error when a lookup throws, so that the caller can log it. */
  onLookupError?: (error: unknown) => void;
}

export interface RegionResolver {
  resolve(request: RegionRequest): RegionDecision;
}

/** Creates a resolver after validating the policy, which throws an Error when the policy is invalid. */
export function createRegionResolver(options: RegionResolverOptions): RegionResolver {
  validateRegionPolicy(options.policy);
  return { resolve: (request) => resolveRegion(request, options) };
}

// The decision is kept in workflow history and returned by the status query, so it never contains
// the IP.
function resolveRegion(request: RegionRequest, options: RegionResolverOptions): RegionDecision {
  const { lookup, policy } = options;
  const fallback = (reason: string): RegionDecision => ({
    region: policy.defaultRegion,
    source: RegionSource.DEFAULT,
    reason,
  });

  // A rejected choice gives the default region instead of a guess from the IP, so that every
  // rejected choice ends in the same predictable region.
  const requested = readRequestedRegion(request.requestedRegion);
  if (requested !== undefined) {
    if (policy.allowedRegions.includes(requested)) {
      return { region: requested, source: RegionSource.USER_CHOICE, reason: 'requested' };
    }
    return fallback('requested-region-not-allowed');
  }

  const normalized = normalizeAddress(request.clientIp);
  if (!normalized.ok) {
    return fallback(normalized.reason);
  }

  const lookedUp = lookup.buildDate === undefined ? {} : { databaseBuildDate: lookup.buildDate };
  let match: ReturnType<CountryLookup['lookup']>;
  try {
    match = lookup.lookup(normalized.address);
  } catch (error) {
    options.onLookupError?.(error);
    return { ...fallback('lookup-failed'), ...lookedUp };
  }
  if (match === undefined) {
    return { ...fallback('ip-not-found'), ...lookedUp };
  }

  const region = regionForCountry(policy, match.country, match.continent);
  if (region === undefined) {
    return { ...fallback('country-not-mapped'), country: match.country, ...lookedUp };
  }
  return {
    region,
    source: RegionSource.IP_COUNTRY,
    reason: `country-${match.country}`,
    country: match.country,
    ...lookedUp,
  };
}

// An empty or blank value counts as no choice, so that an empty form field falls through to the IP.
function readRequestedRegion(value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    return String(value);
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
