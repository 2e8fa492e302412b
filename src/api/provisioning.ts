// Starts provisioning workflows. The workflow id is the Clerk user id, so Temporal itself rejects a
// second start for a user whose workflow is running or completed.
import {
  type Client,
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';

import {
  type DeletionRequest,
  PROVISION_WORKFLOW_TYPE,
  type ProvisionInput,
  type ProvisioningStatus,
  requestDeletionSignal,
  statusQuery,
} from '../shared';
import type { provisionUserDatabase } from '../workflows';

export type StartOutcome =
  { kind: 'started'; workflowId: string; runId: string } | { kind: 'duplicate'; workflowId: string };

export type DeletionOutcome =
  { kind: 'deletion-requested'; workflowId: string } | { kind: 'duplicate'; workflowId: string };

export interface ProvisioningService {
  start(input: ProvisionInput): Promise<StartOutcome>;
  /**
   * Sends the deletion request to the user's workflow, starting it if needed, so that a deletion that arrives
   * before the signup still reaches the one workflow that orders the user's events.
   */
  requestDeletion(input: ProvisionInput, request: DeletionRequest): Promise<DeletionOutcome>;
  /** Resolves when Temporal responds within the deadline, and rejects otherwise. */
  checkReady(): Promise<void>;
}

/** Temporal could not be reached or did not respond in time, so the delivery should be retried later. */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

export function createTemporalProvisioning(
  client: Client,
  options: { taskQueue: string; timeoutMs: number },
): ProvisioningService {
  const withDeadline = <T>(call: () => Promise<T>) => client.withDeadline(Date.now() + options.timeoutMs, call);

  return {
    async start(input) {
      try {
        const handle = await withDeadline(() =>
          client.workflow.start<typeof provisionUserDatabase>(PROVISION_WORKFLOW_TYPE, {
            taskQueue: options.taskQueue,
            workflowId: input.userId,
            args: [input],
            // NOTE: USE_EXISTING would also give one workflow per user, but this SDK version (1.24) does not
            // return the response's `started` flag, so a duplicate could not be distinguished from a new start.
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
            // A user whose provisioning completed is never provisioned again; a failed one may be retried.
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          }),
        );
        return { kind: 'started', workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError)
          return { kind: 'duplicate', workflowId: input.userId };
        throw classify(error);
      }
    },

    async requestDeletion(input, request) {
      try {
        await withDeadline(() =>
          client.workflow.signalWithStart<typeof provisionUserDatabase, [DeletionRequest]>(PROVISION_WORKFLOW_TYPE, {
            taskQueue: options.taskQueue,
            workflowId: input.userId,
            args: [input],
            signal: requestDeletionSignal,
            signalArgs: [request],
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          }),
        );
        return { kind: 'deletion-requested', workflowId: input.userId };
      } catch (error) {
        // The user's workflow completed, which now means the user was deleted already.
        // NOTE: workflows that completed before deletion support existed also land here, and their databases
        // are not deleted; delete those by hand.
        if (error instanceof WorkflowExecutionAlreadyStartedError)
          return { kind: 'duplicate', workflowId: input.userId };
        throw classify(error);
      }
    },

    async checkReady() {
      try {
        await withDeadline(() => client.workflowService.getSystemInfo({}));
      } catch (error) {
        throw classify(error);
      }
    },
  };
}

/**
 * Returns a reader of the workflow's status query, or undefined for a user without a workflow. A query needs
 * a running worker, so a query that fails or times out also gives undefined, and the caller falls back to the
 * catalog.
 */
export function createWorkflowStatusReader(
  client: Client,
  options: { timeoutMs: number; onError(error: unknown): void },
) {
  return async (userId: string): Promise<ProvisioningStatus | undefined> => {
    try {
      return await client.withDeadline(Date.now() + options.timeoutMs, () =>
        client.workflow.getHandle(userId).query(statusQuery),
      );
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) options.onError(error);
      return undefined;
    }
  };
}

function classify(error: unknown): unknown {
  if (error instanceof ServiceError || isGrpcServiceError(error)) {
    return new TemporalUnavailableError(error instanceof Error ? error.message : 'Temporal call failed', {
      cause: error,
    });
  }
  return error;
}
