// GET /tenants/:userId reports a tenant's lifecycle from the catalog. It exposes tenant metadata, so it
// requires the bearer token from STATUS_API_TOKEN.
import { createHash, timingSafeEqual } from 'node:crypto';

import express, { type Router } from 'express';

import { TenantStatus, type TenantCatalog, type TenantRecord } from '../catalog/catalog';
import type { Logger } from '../logger';
import { CLERK_USER_ID_PATTERN, type ProvisioningStatus } from '../shared';

export interface TenantsRouterOptions {
  token: string;
  catalog: TenantCatalog;
  /** Returns the workflow's view of a tenant, or undefined when no workflow exists for it. */
  queryWorkflow(userId: string): Promise<ProvisioningStatus | undefined>;
  logger: Logger;
}

/** Maps a workflow step to the catalog's coarser status. */
export function tenantStatusOf(step: ProvisioningStatus['step']): TenantStatus {
  switch (step) {
    case 'ready':
      return TenantStatus.READY;
    case 'failed':
      return TenantStatus.FAILED;
    case 'deleting':
      return TenantStatus.DELETING;
    case 'deleted':
      return TenantStatus.DELETED;
    default:
      return TenantStatus.PROVISIONING;
  }
}

/** Compares digests, so the comparison takes the same time whatever the length of the presented token. */
function tokenMatches(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function view(record: TenantRecord) {
  return {
    userId: record.userId,
    status: record.status,
    region: record.region ?? null,
    regionSource: record.regionSource ?? null,
    provider: record.provider ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    provisionedAt: record.provisionedAt ?? null,
    deletionRequestedAt: record.deletionRequestedAt ?? null,
    deletedAt: record.deletedAt ?? null,
  };
}

export function createTenantsRouter(options: TenantsRouterOptions): Router {
  const { catalog, logger } = options;
  const router = express.Router();

  router.use((req, res, next) => {
    const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '');
    if (!match?.[1] || !tokenMatches(match[1], options.token)) {
      logger.warn({ path: req.path }, 'Rejected tenant status request: missing or invalid bearer token');
      res.set('WWW-Authenticate', 'Bearer').status(401).json({ error: 'missing or invalid bearer token' });
      return;
    }
    next();
  });

  router.get('/:userId', async (req, res) => {
    const { userId } = req.params;
    if (!CLERK_USER_ID_PATTERN.test(userId)) {
      res.status(400).json({ error: 'invalid user id: expected a Clerk user id such as user_2pQfEu...' });
      return;
    }

    let record = await catalog.get(userId);
    const workflow = await options.queryWorkflow(userId);
    if (workflow) {
      const status = tenantStatusOf(workflow.step);
      const region = workflow.decision?.region;
      if (!record || record.status !== status || (region && record.region !== region)) {
        logger.warn(
          { userId, catalogStatus: record?.status ?? null, workflowStatus: status },
          'Catalog disagreed with the workflow; rebuilt it from the workflow',
        );
        record = await catalog.reconcile(userId, status, {
          region,
          regionSource: workflow.decision?.source,
          provider: workflow.database?.provider,
        });
      }
    }

    if (!record) {
      res.status(404).json({ error: 'tenant not found' });
      return;
    }
    res.json(view(record));
  });

  return router;
}
