// Decides the data region for a new user from the region they chose or the country of their IP.
import { ApplicationFailure } from '@temporalio/common';

import { RegionSource, type RegionRequest, type RegionResolution } from '../../shared';
import { normalizeAddress } from './address';
import type { CountryLookup, CountryMatch } from './country-lookup';
import { regionForCountry, validateRegionPolicy, type RegionPolicy } from './policy';

export interface RegionResolverOptions {
  lookup: CountryLookup;
  policy: RegionPolicy;
  /** Receives the error when a lookup fails, so that the caller can log it. */
  onLookupError?: (error: unknown) => void;
}

export interface RegionResolver {
  /** Returns a decision, or an undecided result when no rule applies and the policy's fallback is `hold`. */
  resolve(request: RegionRequest): Promise<RegionResolution>;
}

/** Creates a resolver after validating the policy, which throws an Error when the policy is invalid. */
export function createRegionResolver(options: RegionResolverOptions): RegionResolver {
  // A copy, so that a caller who changes its policy object later cannot bypass the validation.
  const policy = structuredClone(options.policy);
  validateRegionPolicy(policy);
  return { resolve: (request) => resolveRegion(request, { ...options, policy }) };
}

// The decision is kept in workflow history and returned by the status query, so it never contains
// the IP.
async function resolveRegion(request: RegionRequest, options: RegionResolverOptions): Promise<RegionResolution> {
  const { lookup, policy } = options;
  const fallback = (reason: string): RegionResolution =>
    policy.fallback === 'hold'
      ? { undecided: true, reason, allowedRegions: [...policy.allowedRegions] }
      : { region: policy.defaultRegion, source: RegionSource.DEFAULT, reason };

  // A rejected choice goes to the fallback instead of a guess from the IP, so that a user who stated
  // a region never silently gets the region of their IP.
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
  let match: CountryMatch | undefined;
  try {
    match = await lookup.lookup(normalized.address);
  } catch (error) {
    // A retryable ApplicationFailure, such as ip-api's rate limit, makes Temporal retry the activity
    // later. Any other error ends in the fallback with the reason lookup-failed.
    if (error instanceof ApplicationFailure && !error.nonRetryable) {
      throw error;
    }
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
