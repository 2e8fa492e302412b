export { AddressRejection, normalizeAddress, type AddressResult } from './address';
export {
  cacheCountryLookup,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_TTL_MS,
  type CountryCacheOptions,
} from './cached-lookup';
export {
  DEFAULT_COUNTRY_DATABASE,
  openMmdbCountryLookup,
  readCountryRecord,
  type AsyncCountryLookup,
  type CountryLookup,
  type CountryMatch,
  type SyncCountryLookup,
} from './country-lookup';
export {
  createIpApiCountryLookup,
  DEFAULT_IP_API_TIMEOUT_MS,
  IP_API_FREE_BASE_URL,
  IP_API_PRO_BASE_URL,
  IP_API_RATE_LIMITED,
  IpApiError,
  type IpApiOptions,
} from './ip-api-lookup';
export {
  DEFAULT_REGION_POLICY,
  REGION_FALLBACKS,
  regionForCountry,
  validateRegionPolicy,
  type RegionFallback,
  type RegionPolicy,
} from './policy';
export { DEFAULT_REGION_POLICY_FILE, loadRegionPolicyFile } from './policy-file';
export { createRegionResolver, type RegionResolver, type RegionResolverOptions } from './resolver';
