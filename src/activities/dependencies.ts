// Builds the real dependencies of the activities from the validated configuration.
import type { CommonConfig } from '../config';
import type { Logger } from '../logger';
import type { ActivityDependencies } from '.';
import { migrationsFor } from './migrations';
import { createSqliteProvider } from './providers/sqlite';
import { createRegionResolver, DEFAULT_COUNTRY_DATABASE, DEFAULT_REGION_POLICY, openMmdbCountryLookup } from './region';

export async function buildActivityDependencies(config: CommonConfig, logger: Logger): Promise<ActivityDependencies> {
  const lookup = await openMmdbCountryLookup(config.geoipDatabase ?? DEFAULT_COUNTRY_DATABASE);
  logger.info({ database: lookup.name, buildDate: lookup.buildDate }, 'Opened the country database');

  const regionResolver = createRegionResolver({
    lookup,
    policy: DEFAULT_REGION_POLICY,
    onLookupError: (error) => logger.warn({ err: error }, 'Country lookup failed; the default region applies'),
  });

  const provider = createSqliteProvider({ dataDir: config.dataDir });
  const migrations = config.database.seedSchema ? migrationsFor(provider.dialect) : [];
  logger.info({ provider: provider.name, migrations: migrations.length }, 'Database provider ready');

  return { regionResolver, provider, migrations };
}
