export { AddressRejection, normalizeAddress, type AddressResult } from './address';
export {
  DEFAULT_COUNTRY_DATABASE,
  openMmdbCountryLookup,
  readCountryRecord,
  type CountryLookup,
  type CountryMatch,
} from './country-lookup';
export { DEFAULT_REGION_POLICY, regionForCountry, validateRegionPolicy, type RegionPolicy } from './policy';
export { createRegionResolver, type RegionResolver, type RegionResolverOptions } from './resolver';
