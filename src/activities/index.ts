// Activities are built by a factory so that the worker passes real dependencies and tests pass fakes.
import { log } from '@temporalio/activity';

import type { LifecycleEvent, LifecycleUpdate, TenantCatalog, TenantStatus } from '../catalog/catalog';
import type {
  CreateDatabaseResult,
  DatabaseRef,
  ProviderCallPlacement,
  RegionRequest,
  RegionResolution,
  SeedSchemaResult,
} from '../shared';
import type { Migration } from './migrations';
import type { DatabaseProvider } from './providers/provider';
import type { RegionResolver } from './region';

export interface ActivityDependencies {
  regionResolver: RegionResolver;
  provider: DatabaseProvider;
  migrations: Migration[];
  catalog: TenantCatalog;
}

export function createActivities({ regionResolver, provider, migrations, catalog }: ActivityDependencies) {
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

    async setDatabaseEnabled(input: { ref: DatabaseRef; enabled: boolean }): Promise<void> {
      if (!provider.setEnabled) {
        log.warn('The provider cannot disable a database; it stays usable until it is deleted', {
          provider: provider.name,
        });
        return;
      }
      await provider.setEnabled(input.ref, input.enabled);
      log.info(input.enabled ? 'Enabled database' : 'Disabled database', { provider: input.ref.provider });
    },

    async deleteDatabase(ref: DatabaseRef): Promise<{ deleted: boolean }> {
      const result = await provider.deleteDatabase(ref);
      log.info(result.deleted ? 'Deleted database' : 'Database was already gone', { provider: ref.provider });
      return result;
    },

    /** Returns the catalog's status of a tenant, which outlives Temporal's history retention. */
    async readTenantStatus(userId: string): Promise<TenantStatus | undefined> {
      return (await catalog.get(userId))?.status;
    },

    async recordLifecycleEvent(input: {
      userId: string;
      event: LifecycleEvent;
      update?: LifecycleUpdate;
    }): Promise<void> {
      await catalog.record(input.userId, input.event, input.update);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Activity that `createWorkers` adds, because its result depends on the worker's configuration. */
export interface WorkerSettingActivities {
  /** Reports where the workflow runs provider calls (see ProviderCallPlacement). */
  providerCallPlacement(): Promise<ProviderCallPlacement>;
}

/** Activities that the workflow can call. */
export type WorkflowActivities = Activities & WorkerSettingActivities;
