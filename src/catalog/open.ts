import path from 'node:path';

import { DEFAULT_SERVER_KEY } from '../activities/providers/server-urls';
import type { CommonConfig } from '../config';
import type { TenantCatalog } from './catalog';
import { openPostgresCatalog } from './postgres-catalog';
import { openSqliteCatalog } from './sqlite-catalog';

/**
 * Opens the tenant catalog: tables on the Postgres provider's default server (the `*` entry of POSTGRES_URLS,
 * else the first one), or a SQLite file in DATA_DIR for every other provider, which the API and the worker
 * must then share.
 */
export function openCatalog(config: CommonConfig): TenantCatalog {
  const urls = config.database.provider === 'postgres' ? config.database.postgres?.urls : undefined;
  if (urls) {
    const key = DEFAULT_SERVER_KEY in urls ? DEFAULT_SERVER_KEY : Object.keys(urls).sort()[0];
    const url = key === undefined ? undefined : urls[key];
    if (url) return openPostgresCatalog(url);
  }
  return openSqliteCatalog(path.join(config.dataDir, 'catalog.sqlite'));
}
