import path from 'node:path';

import type { CommonConfig } from '../config';
import type { TenantCatalog } from './catalog';
import { openSqliteCatalog } from './sqlite-catalog';

// NOTE: the catalog is a SQLite file under DATA_DIR for every provider, so the API and the worker must share
// that folder (docker-compose.yml mounts one volume for both). A table in the Postgres provider's server
// would suit deployments without a shared disk; it is not built yet.
export function openCatalog(config: CommonConfig): TenantCatalog {
  return openSqliteCatalog(path.join(config.dataDir, 'catalog.sqlite'));
}
