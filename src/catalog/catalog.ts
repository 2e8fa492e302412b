// The tenant catalog: a small durable record of every tenant's lifecycle that outlives Temporal's history
// retention. Its tombstones are what stop a deleted user from being provisioned again years later.

export const TenantStatus = {
  PROVISIONING: 'provisioning',
  READY: 'ready',
  DELETING: 'deleting',
  DELETED: 'deleted',
  FAILED: 'failed',
} as const;
export type TenantStatus = (typeof TenantStatus)[keyof typeof TenantStatus];

/** Audit events, one catalog row each; none carries personal data beyond the Clerk user id. */
export const LifecycleEvent = {
  PROVISIONING_STARTED: 'provisioning-started',
  PROVISIONED: 'provisioned',
  PROVISIONING_FAILED: 'provisioning-failed',
  DELETION_REQUESTED: 'deletion-requested',
  RESTORED: 'restored',
  DELETED: 'deleted',
} as const;
export type LifecycleEvent = (typeof LifecycleEvent)[keyof typeof LifecycleEvent];

/** The status that each event moves a tenant to. */
export const STATUS_AFTER: Record<LifecycleEvent, TenantStatus> = {
  'provisioning-started': 'provisioning',
  provisioned: 'ready',
  'provisioning-failed': 'failed',
  'deletion-requested': 'deleting',
  restored: 'ready',
  deleted: 'deleted',
};

/** The catalog column that records when each event last happened. The names are constants, never input. */
export const EVENT_TIME_COLUMN: Partial<Record<LifecycleEvent, string>> = {
  provisioned: 'provisioned_at',
  'deletion-requested': 'deletion_requested_at',
  deleted: 'deleted_at',
};

export interface TenantRecord {
  userId: string;
  status: TenantStatus;
  region?: string;
  regionSource?: string;
  provider?: string;
  /** ISO 8601 times of the lifecycle events seen so far. */
  createdAt: string;
  updatedAt: string;
  provisionedAt?: string;
  deletionRequestedAt?: string;
  deletedAt?: string;
}

export interface AuditEntry {
  userId: string;
  event: LifecycleEvent;
  at: string;
}

export interface LifecycleUpdate {
  region?: string;
  regionSource?: string;
  provider?: string;
  /** When the event happened; defaults to now. */
  at?: string;
}

export interface TenantCatalog {
  get(userId: string): Promise<TenantRecord | undefined>;
  /** Appends an audit row and moves the tenant to the event's status, in one transaction. */
  record(userId: string, event: LifecycleEvent, update?: LifecycleUpdate): Promise<TenantRecord>;
  /** Overwrites a tenant's status from the workflow's view, when the two disagree. */
  reconcile(userId: string, status: TenantStatus, update?: LifecycleUpdate): Promise<TenantRecord>;
  history(userId: string): Promise<AuditEntry[]>;
  close(): Promise<void>;
}
