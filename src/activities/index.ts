// Activities are built by a factory so that the worker passes real dependencies and tests pass fakes.
import { log } from '@temporalio/activity';

import type { CreateDatabaseResult, DatabaseRef, RegionRequest, RegionResolution, SeedSchemaResult } from '../shared';
import type { Migration } from './migrations';
import type { DatabaseProvider } from './providers/provider';
import type { RegionResolver } from './region';

export interface ActivityDependencies {
  regionResolver: RegionResolver;
  provider: DatabaseProvider;
  migrations: Migration[];
}

export function createActivities({ regionResolver, provider, migrations }: ActivityDependencies) {
  return {
    async resolveRegion(request: RegionRequest): Promise<RegionResolution> {
      return regionResolver.resolve(request);
    },

    async createDatabase(input: { userId: string; region: string }): Promise<CreateDatabaseResult> {
      const result = await provider.ensureDatabase(input.userId, input.region);
      log.info(result.created ? 'Created database' : 'Database already exists', {
        provider: result.ref.provider,
        region: result.ref.region,
      });
      return result;
    },

    async seedSchema(ref: DatabaseRef): Promise<SeedSchemaResult> {
      const result = await provider.applySchema(ref, migrations);
      log.info('Schema is up to date', { version: result.version, applied: result.applied });
      return result;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
