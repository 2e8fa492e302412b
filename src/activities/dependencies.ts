// Builds the real dependencies of the activities from the validated configuration.
import { openCatalog } from '../catalog/open';
import type { CommonConfig } from '../config';
import type { Logger } from '../logger';
import type { ActivityDependencies } from '.';
import { migrationsFor } from './migrations';
import { createPostgresProvider } from './providers/postgres';
import type { DatabaseProvider } from './providers/provider';
import { createSqliteProvider } from './providers/sqlite';
import { createXataProvider } from './providers/xata';
import { createXataLiteProvider } from './providers/xata-lite';
import { buildRegionResolver } from './region/from-config';

export async function buildActivityDependencies(config: CommonConfig, logger: Logger): Promise<ActivityDependencies> {
  const regionResolver = await buildRegionResolver(config, logger);

  const provider = buildProvider(config, logger);
  const migrations = config.database.seedSchema ? migrationsFor(provider.dialect) : [];
  logger.info({ provider: provider.name, migrations: migrations.length }, 'Database provider ready');

  return { regionResolver, provider, migrations, catalog: openCatalog(config) };
}

function buildProvider(config: CommonConfig, logger: Logger): DatabaseProvider {
  const { xata, xataLite } = config.database;
  if (config.database.provider === 'xata' && xata) return createXataProvider(xata);
  if (config.database.provider === 'xata-lite' && xataLite) return createXataLiteProvider(xataLite);

  const postgres = config.database.postgres;
  if (config.database.provider === 'postgres' && postgres) {
    return createPostgresProvider({
      servers: postgres.urls,
      rolePerUser: postgres.rolePerUser,
      onIdleConnectionError: (error, server) =>
        logger.warn({ err: error, server }, 'Idle Postgres connection failed; the pool drops it'),
    });
  }
  return createSqliteProvider({ dataDir: config.dataDir });
}
