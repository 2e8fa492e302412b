// Definitions that the API, the worker and the workflow all import. Nothing here may do I/O or
// import a Node built-in, because the workflow bundle includes this file.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';

export const TASK_QUEUE = 'per-user-db';

/**
 * Returns the task queue of the provider activities (createDatabase, seedSchema, setDatabaseEnabled,
 * deleteDatabase). It is derived from the workflow's task queue, so the workflow needs no configuration to
 * compute it, and a queue of their own lets the worker cap their rate with Temporal's per-task-queue limit.
 */
export function providerTaskQueue(workflowTaskQueue: string): string {
  return `${workflowTaskQueue}-provider`;
}

/**
 * Placement of the workflow's provider calls. `local` runs them as local activities inside the workflow task, which
 * saves a task queue round trip per call. `provider-queue` schedules them on the provider task queue, which remote
 * providers use, and every provider once PROVIDER_MAX_CALLS_PER_SECOND is set, because Temporal enforces a rate
 * limit across workers only on a task queue.
 */
export type ProviderCallPlacement = 'local' | 'provider-queue';

/** Activities that call the database provider, which run on the provider task queue unless they run locally. */
export const PROVIDER_ACTIVITY_NAMES = [
  'createDatabase',
  'seedSchema',
  'setDatabaseEnabled',
  'deleteDatabase',
] as const;

/** Workflow type; the workflow id is always the Clerk user id. */
export const PROVISION_WORKFLOW_TYPE = 'provisionUserDatabase';

/** Clerk user ids are `user_` followed by base62 characters (27 today); the cap leaves room for growth. */
export const CLERK_USER_ID_PATTERN = /^user_[A-Za-z0-9]{1,64}$/;

/** Region names in the AWS style that Xata and most providers share, such as `eu-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$/;

export const ProvisioningStep = {
  RESOLVING_REGION: 'resolving-region',
  AWAITING_REGION: 'awaiting-region',
  CREATING_DATABASE: 'creating-database',
  SEEDING_SCHEMA: 'seeding-schema',
  READY: 'ready',
  /** Deletion was requested: the database is disabled but intact until the grace period ends. */
  DELETING: 'deleting',
  DELETED: 'deleted',
  FAILED: 'failed',
} as const;
export type ProvisioningStep = (typeof ProvisioningStep)[keyof typeof ProvisioningStep];

/** Source of a region decision. */
export const RegionSource = {
  USER_CHOICE: 'user-choice',
  IP_COUNTRY: 'ip-country',
  DEFAULT: 'default',
  OPERATOR: 'operator',
} as const;
export type RegionSource = (typeof RegionSource)[keyof typeof RegionSource];

/** The facts a region decision is based on, taken from the `user.created` event. */
export interface RegionRequest {
  /** The signup request's client IP as Clerk reported it; absent for users created from the dashboard. */
  clientIp?: string;
  /** The region the user asked for in `public_metadata`, if any. */
  requestedRegion?: string;
}

export interface RegionDecision {
  region: string;
  source: RegionSource;
  /** A short machine-readable reason, such as `country-NL` or `ip-not-public`. */
  reason: string;
  /** ISO 3166-1 alpha-2 code of the IP's country, when a lookup found one. */
  country?: string;
  /** Build date of the country database used, as an ISO 8601 string. */
  databaseBuildDate?: string;
}

/**
 * The resolver's result when no rule decided a region and the policy's fallback is `hold`. The workflow
 * then waits for an operator to send the `setRegion` signal.
 */
export interface UndecidedRegion {
  undecided: true;
  /** Reason that no region was decided, with the same values as a `default` decision's reason. */
  reason: string;
  /** Regions that the operator may choose from. */
  allowedRegions: string[];
  country?: string;
  databaseBuildDate?: string;
}

export type RegionResolution = RegionDecision | UndecidedRegion;

/** How to find a tenant database again; contains no secret and no personal data. */
export interface DatabaseRef {
  provider: string;
  region: string;
  /** The provider's name for the database. */
  name: string;
  /** Location in the provider's terms (for SQLite, a path relative to DATA_DIR). */
  location: string;
}

export interface CreateDatabaseResult {
  ref: DatabaseRef;
  /** False when the database already existed, which counts as success. */
  created: boolean;
}

export interface SeedSchemaResult {
  /** The highest migration version now applied. */
  version: number;
  /** Migrations applied by this call; empty when the database was already up to date. */
  applied: number[];
}

export interface ProvisionInput {
  userId: string;
  region: RegionRequest;
  /** Whether to apply the schema migrations after creating the database. */
  seedSchema: boolean;
}

export interface ProvisionResult {
  userId: string;
  /** Absent when the user was deleted before any region was decided. */
  decision?: RegionDecision;
  /** Absent when the user was deleted before any database was created. */
  database?: DatabaseRef;
  schemaVersion?: number;
  /** True when the workflow ended because the user was deleted; workflows from before deletion support lack it. */
  deleted?: boolean;
}

export interface ProvisioningStatus {
  step: ProvisioningStep;
  decision?: RegionDecision;
  /** The undecided result that the workflow holds on, set while `step` is `awaiting-region`. */
  undecided?: UndecidedRegion;
  database?: DatabaseRef;
  schemaVersion?: number;
  /** The failure message when `step` is `failed`. */
  error?: string;
}

export const statusQuery = defineQuery<ProvisioningStatus>('status');

/** Sets the region of a workflow in `awaiting-region`; the argument must be one of the policy's allowed regions. */
export const setRegionSignal = defineSignal<[region: string]>('setRegion');

export interface DeletionRequest {
  /** How long the database stays disabled but intact, so that an operator can still restore it. */
  gracePeriodMs: number;
}

/** Sent by the API for `user.deleted`, with signal-with-start, so a deletion before the signup is never lost. */
export const requestDeletionSignal = defineSignal<[DeletionRequest]>('requestDeletion');

/** Sent by an operator during the grace period to undo a deletion. */
export const restoreDatabaseSignal = defineSignal<[]>('restoreDatabase');

/** Keyword search attributes that the Web UI list can filter on. None carries personal data. */
export const searchAttributes = {
  status: defineSearchAttributeKey('ProvisioningStatus', SearchAttributeType.KEYWORD),
  region: defineSearchAttributeKey('DataRegion', SearchAttributeType.KEYWORD),
  provider: defineSearchAttributeKey('DatabaseProvider', SearchAttributeType.KEYWORD),
} as const;

export const ALL_SEARCH_ATTRIBUTES = Object.values(searchAttributes);

/** Error types that activities raise as non-retryable failures. */
export const ErrorType = {
  INVALID_INPUT: 'InvalidInput',
  CONFIGURATION: 'ConfigurationError',
  /** The database provider rejected the credentials. */
  PROVIDER_AUTHENTICATION: 'ProviderAuthenticationFailed',
  /** The provider account has reached a limit, such as its number of databases. */
  PROVIDER_QUOTA_EXCEEDED: 'ProviderQuotaExceeded',
  /** The provider does not serve the region, or no server is configured for it. */
  REGION_NOT_AVAILABLE: 'RegionNotAvailable',
  /** The provider's API is gone (HTTP 410, or its host no longer resolves). */
  PROVIDER_RETIRED: 'ProviderRetired',
} as const;
