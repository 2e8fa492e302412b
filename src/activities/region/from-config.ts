// Builds the region resolver that the worker uses from the validated configuration.
import type { CommonConfig } from '../../config';
import type { Logger } from '../../logger';
import { cacheCountryLookup } from './cached-lookup';
import { DEFAULT_COUNTRY_DATABASE, openMmdbCountryLookup, type CountryLookup } from './country-lookup';
import { createIpApiCountryLookup } from './ip-api-lookup';
import { DEFAULT_REGION_POLICY_FILE, loadRegionPolicyFile } from './policy-file';
import { createRegionResolver, type RegionResolver } from './resolver';

/** Loads the policy file and opens the country source. Throws when either is unusable. */
export async function buildRegionResolver(config: CommonConfig, logger: Logger): Promise<RegionResolver> {
  const policyFile = config.regionPolicyFile ?? DEFAULT_REGION_POLICY_FILE;
  const policy = await loadRegionPolicyFile(policyFile);
  logger.info(
    { policyFile, allowedRegions: policy.allowedRegions, fallback: policy.fallback },
    'Loaded the region policy',
  );

  const lookup = cacheCountryLookup(await openCountrySource(config, logger));
  const fallbackNote = policy.fallback === 'hold' ? 'the signup waits for an operator' : 'the default region applies';

  return createRegionResolver({
    lookup,
    policy,
    onLookupError: (error) =>
      logger.warn({ err: error, source: lookup.name }, `Country lookup failed; ${fallbackNote}`),
  });
}

async function openCountrySource(config: CommonConfig, logger: Logger): Promise<CountryLookup> {
  if (config.geoipSource === 'ip-api') {
    const lookup = createIpApiCountryLookup({ key: config.ipApi.key, baseUrl: config.ipApi.baseUrl });
    // Only the origin is logged, because a base URL may carry credentials and the key is a secret.
    const origin = config.ipApi.baseUrl === undefined ? undefined : new URL(config.ipApi.baseUrl).origin;
    logger.info({ baseUrl: origin, pro: Boolean(config.ipApi.key) }, 'Country lookups use ip-api');
    return lookup;
  }

  const lookup = await openMmdbCountryLookup(config.geoipDatabase ?? DEFAULT_COUNTRY_DATABASE);
  logger.info({ database: lookup.name, buildDate: lookup.buildDate }, 'Opened the country database');
  return lookup;
}
